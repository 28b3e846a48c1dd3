package org.sr4g.dataset;

/** How many prompts each prompt file got. */
public record PromptCounts(int val, int test, int testUnseen) {}
