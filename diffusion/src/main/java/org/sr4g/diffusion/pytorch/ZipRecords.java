package org.sr4g.diffusion.pytorch;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import org.sr4g.UserInputException;

/**
 * The records of a PyTorch zip checkpoint, read from the central directory of a memory-mapped file and validated
 * before any offset is used: end-of-central-directory (ZIP64 too), one disk, every entry stored (PyTorch never
 * compresses), not encrypted, compressed size = size, a local header naming the same record, data inside the file and
 * before the central directory, no two records overlapping, no duplicate names, and names that are plain relative
 * paths under one top-level folder (no {@code ..}, no absolute path, no backslash). Nothing is ever extracted to disk.
 * A record's CRC-32 is checked the first time its bytes are handed out ({@link #bytes}).
 */
final class ZipRecords {
  private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final int EOCD = 0x06054b50, ZIP64_LOCATOR = 0x07064b50, ZIP64_EOCD = 0x06064b50;
  private static final int CENTRAL = 0x02014b50, LOCAL = 0x04034b50;
  /** A record name: slash-separated segments of letters, digits, '_', '-', '.' (no empty, '.' or '..' segment). */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.\\-]+(/[A-Za-z0-9_.\\-]+)*");

  /** One stored record: its data is {@code [start, start + size)} of the file. */
  record Record(String name, long headerOffset, long start, long size, int crc) {}

  private final String file;
  private final MemorySegment data;
  private final Map<String, Record> byName;
  private final java.util.Set<String> crcChecked = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final String prefix;

  private ZipRecords(String file, MemorySegment data, Map<String, Record> byName, String prefix) {
    this.file = file;
    this.data = data;
    this.byName = byName;
    this.prefix = prefix;
  }

  /** Validates the whole central directory of {@code data} (the mapped file). */
  static ZipRecords read(String file, MemorySegment data) {
    long size = data.byteSize();
    long eocd = findEocd(file, data);
    int disk = u16(data, eocd + 4), cdDisk = u16(data, eocd + 6);
    long entriesHere = u16(data, eocd + 8), entries = u16(data, eocd + 10);
    long cdSize = u32(data, eocd + 12), cdOffset = u32(data, eocd + 16);
    long cdEnd = eocd;
    if (entries == 0xffff || entriesHere == 0xffff || cdSize == 0xffffffffL || cdOffset == 0xffffffffL) {
      // ZIP64 (PyTorch writes it for checkpoints past 4 GB): locator just before the EOCD, then the ZIP64 EOCD.
      long loc = eocd - 20;
      if (loc < 0 || u32i(data, loc) != ZIP64_LOCATOR) throw bad(file, "ZIP64 sizes without a ZIP64 locator");
      long z = u64(data, loc + 8);
      if (z < 0 || z > loc - 56 || u32i(data, z) != ZIP64_EOCD) throw bad(file, "ZIP64 end record missing or out of range");
      disk = (int) u32(data, z + 16);
      cdDisk = (int) u32(data, z + 20);
      entriesHere = u64(data, z + 24);
      entries = u64(data, z + 32);
      cdSize = u64(data, z + 40);
      cdOffset = u64(data, z + 48);
      cdEnd = z;
    }
    if (disk != 0 || cdDisk != 0 || entriesHere != entries) throw bad(file, "multi-disk archives are not supported");
    if (cdOffset < 0 || cdSize < 0 || cdOffset > cdEnd || cdSize > cdEnd - cdOffset)
      throw bad(file, "central directory [" + cdOffset + ", +" + cdSize + ") lies outside the file ("
          + size + " bytes): truncated?");
    if (entries < 0 || entries > cdSize / 46) throw bad(file, entries + " entries cannot fit a " + cdSize + "-byte central directory");
    Map<String, Record> byName = new LinkedHashMap<>();
    long p = cdOffset;
    for (long i = 0; i < entries; i++) {
      Record r = central(file, data, p, cdOffset + cdSize, cdOffset);
      p += 46 + u16(data, p + 28) + u16(data, p + 30) + u16(data, p + 32);
      if (byName.put(r.name(), r) != null) throw bad(file, "record '" + r.name() + "' appears twice");
    }
    if (p != cdOffset + cdSize) throw bad(file, "central directory size " + cdSize + " does not match its entries");
    List<Record> sorted = new ArrayList<>(byName.values());
    sorted.sort(Comparator.comparingLong(Record::headerOffset));
    for (int i = 1; i < sorted.size(); i++)
      if (sorted.get(i).headerOffset() < sorted.get(i - 1).start() + sorted.get(i - 1).size())
        throw bad(file, "records '" + sorted.get(i - 1).name() + "' and '" + sorted.get(i).name() + "' overlap");
    return new ZipRecords(file, data, Collections.unmodifiableMap(byName), prefix(file, byName));
  }

  /** The EOCD record: its signature with a comment that ends exactly at the end of the file. */
  private static long findEocd(String file, MemorySegment data) {
    long size = data.byteSize();
    if (size < 22) throw bad(file, size + " bytes is too short for a zip archive: truncated or not a PyTorch checkpoint");
    for (long at = size - 22; at >= Math.max(0, size - 22 - 0xffff); at--) {
      if (u32i(data, at) == EOCD && at + 22 + u16(data, at + 20) == size) return at;
    }
    throw bad(file, "no zip end-of-central-directory record: the file is truncated or not a PyTorch zip checkpoint"
        + " (files saved before PyTorch 1.6 are not read)");
  }

  private static Record central(String file, MemorySegment data, long p, long cdEnd, long cdOffset) {
    if (p + 46 > cdEnd || u32i(data, p) != CENTRAL) throw bad(file, "broken central directory entry at byte " + p);
    int flags = u16(data, p + 8), method = u16(data, p + 10);
    int crc = u32i(data, p + 16);
    long csize = u32(data, p + 20), usize = u32(data, p + 24);
    int nameLen = u16(data, p + 28), extraLen = u16(data, p + 30), commentLen = u16(data, p + 32);
    int diskStart = u16(data, p + 34);
    long local = u32(data, p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > cdEnd) throw bad(file, "central directory entry at byte " + p + " runs past it");
    String name = name(file, data.asSlice(p + 46, nameLen));
    // ZIP64 extra field: the 0xffffffff fields, in the order size, compressed size, local offset.
    long e = p + 46 + nameLen, eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      int id = u16(data, e), len = u16(data, e + 2);
      if (e + 4 + len > eEnd) throw bad(file, "record '" + name + "': malformed extra field");
      if (id == 0x0001) {
        long q = e + 4;
        if (usize == 0xffffffffL) { usize = field64(file, data, q, e + 4 + len, name); q += 8; }
        if (csize == 0xffffffffL) { csize = field64(file, data, q, e + 4 + len, name); q += 8; }
        if (local == 0xffffffffL) { local = field64(file, data, q, e + 4 + len, name); }
      }
      e += 4 + len;
    }
    if ((flags & 1) != 0) throw bad(file, "record '" + name + "' is encrypted");
    if (method != 0)
      throw bad(file, "record '" + name + "' is compressed (method " + method + "); PyTorch checkpoints store records"
          + " uncompressed: re-save it with torch.save");
    if (diskStart != 0) throw bad(file, "record '" + name + "' starts on another disk");
    if (csize != usize) throw bad(file, "record '" + name + "': stored size " + csize + " differs from its size " + usize);
    if (local < 0 || local + 30 > cdOffset) throw bad(file, "record '" + name + "': local header at " + local + " is outside the data area");
    if (u32i(data, local) != LOCAL) throw bad(file, "record '" + name + "': no local header at byte " + local);
    int lName = u16(data, local + 26), lExtra = u16(data, local + 28);
    long start = local + 30 + lName + lExtra;
    if (start > cdOffset || !name.equals(name(file, data.asSlice(local + 30, lName))))
      throw bad(file, "record '" + name + "': its local header names another record or runs past the data area");
    if (usize < 0 || usize > cdOffset - start)
      throw bad(file, "record '" + name + "' (" + usize + " bytes at " + start + ") runs past the data area: truncated?");
    return new Record(name, local, start, usize, crc);
  }

  private static long field64(String file, MemorySegment data, long q, long end, String name) {
    if (q + 8 > end) throw bad(file, "record '" + name + "': ZIP64 extra field too short");
    long v = u64(data, q);
    if (v < 0) throw bad(file, "record '" + name + "': ZIP64 size out of range");
    return v;
  }

  private static String name(String file, MemorySegment bytes) {
    String n;
    try {
      n = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes.asByteBuffer()).toString();
    } catch (CharacterCodingException e) {
      throw bad(file, "a record name is not valid UTF-8");
    }
    if (!NAME.matcher(n).matches() || ("/" + n + "/").contains("/../") || ("/" + n + "/").contains("/./"))
      throw bad(file, "record name '" + printable(n) + "' is not a plain relative path (letters, digits, _ - . and /)");
    return n;
  }

  /** Every record must sit under one top-level folder that holds {@code data.pkl} (PyTorch's archive name). */
  private static String prefix(String file, Map<String, Record> byName) {
    String prefix = null;
    for (String n : byName.keySet()) {
      int slash = n.indexOf('/');
      if (slash < 0) throw bad(file, "record '" + n + "' is not inside the archive's folder");
      String p = n.substring(0, slash + 1);
      if (prefix != null && !prefix.equals(p))
        throw bad(file, "records under two folders ('" + prefix + "', '" + p + "'): not one PyTorch checkpoint");
      prefix = p;
    }
    if (prefix == null || !byName.containsKey(prefix + "data.pkl"))
      throw bad(file, "no data.pkl record: not a PyTorch checkpoint"
          + (prefix != null && byName.containsKey(prefix + "constants.pkl") ? " (a TorchScript archive)" : ""));
    return prefix;
  }

  /** The archive's folder with its trailing slash, e.g. {@code "archive/"}. */
  String prefix() {
    return prefix;
  }

  /** The record {@code prefix + relative}, or null. */
  Record get(String relative) {
    return byName.get(prefix + relative);
  }

  /** Names of every record. */
  java.util.Set<String> names() {
    return byName.keySet();
  }

  /** The record's bytes (a read-only slice of the mapping), CRC-checked once. */
  MemorySegment bytes(Record r) {
    MemorySegment s = data.asSlice(r.start(), r.size()).asReadOnly();
    if (!crcChecked.contains(r.name())) {
      CRC32 crc = new CRC32();
      for (long off = 0; off < r.size(); off += 1 << 30) {
        ByteBuffer b = s.asSlice(off, Math.min(1L << 30, r.size() - off)).asByteBuffer();
        crc.update(b);
      }
      if ((int) crc.getValue() != r.crc())
        throw bad(file, "record '" + r.name() + "' fails its CRC-32 check: the file is damaged");
      crcChecked.add(r.name());
    }
    return s;
  }

  private static String printable(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c));
    return b.length() > 120 ? b.substring(0, 120) + "…" : b.toString();
  }

  static UserInputException bad(String file, String what) {
    return new UserInputException(file + ": " + what);
  }

  private static int u16(MemorySegment d, long at) {
    return d.get(U16, at) & 0xffff;
  }

  private static long u32(MemorySegment d, long at) {
    return d.get(U32, at) & 0xffffffffL;
  }

  private static int u32i(MemorySegment d, long at) {
    return d.get(U32, at);
  }

  private static long u64(MemorySegment d, long at) {
    return d.get(U64, at);
  }
}
