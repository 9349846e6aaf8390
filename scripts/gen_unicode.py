#!/usr/bin/env python3
"""gen_unicode.py - generate kernels/unicode_tables.c from the Unicode
Character Database.

Usage:
    python3 scripts/gen_unicode.py [UCD_DIR] [-o OUTPUT] [--expect-version V]

UCD_DIR (default /usr/share/unicode) must hold UnicodeData.txt,
CaseFolding.txt, PropList.txt, auxiliary/WordBreakProperty.txt and
emoji/emoji-data.txt, all of one Unicode version (default expected: 15.0.0,
the version whose UAX #29 rules kernels/tokenize_scalar.c implements).
OUTPUT defaults to kernels/unicode_tables.c next to this script's parent.

What is written (the layout is declared in kernels/unicode.h):
  - one property byte per code point, as a two-stage table: stage 1 maps each
    128-code-point block to a deduplicated 128-byte stage-2 block. The byte
    holds the Word_Break value (bits 0-4, the RS_WB_* numbering below),
    Extended_Pictographic (bit 5), "word char" (bit 6: General_Category
    Lu/Ll/Lt/Lm/Lo/Nd/Pc or Ideographic=Yes) and "changes under simple case
    folding" (bit 7). Stage-2 block 0 is the ASCII block, so code points below
    0x80 index stage 2 directly.
  - simple case folding (CaseFolding.txt statuses C and S) as a two-stage
    table of signed deltas (folded - original), stage 1 cut after the last
    block that folds anything.

The output depends only on the input files (no dates), so regenerating from
the same data gives the same bytes. Standard library only.
"""

import argparse
import os
import re
import sys

SHIFT = 7  # must equal RS_UNICODE_SHIFT in kernels/unicode.h
BLOCK = 1 << SHIFT
NCP = 0x110000

# Frozen numbering: must equal enum rs_wb_e in kernels/unicode.h (the
# generated file static-asserts it) and must never change, since the tables
# are also uploaded to OpenCL devices.
WB_VALUES = [
    ("Other", "RS_WB_OTHER"),
    ("CR", "RS_WB_CR"),
    ("LF", "RS_WB_LF"),
    ("Newline", "RS_WB_NEWLINE"),
    ("Extend", "RS_WB_EXTEND"),
    ("ZWJ", "RS_WB_ZWJ"),
    ("Regional_Indicator", "RS_WB_REGIONAL_INDICATOR"),
    ("Format", "RS_WB_FORMAT"),
    ("Katakana", "RS_WB_KATAKANA"),
    ("Hebrew_Letter", "RS_WB_HEBREW_LETTER"),
    ("ALetter", "RS_WB_ALETTER"),
    ("Single_Quote", "RS_WB_SINGLE_QUOTE"),
    ("Double_Quote", "RS_WB_DOUBLE_QUOTE"),
    ("MidNumLet", "RS_WB_MIDNUMLET"),
    ("MidLetter", "RS_WB_MIDLETTER"),
    ("MidNum", "RS_WB_MIDNUM"),
    ("Numeric", "RS_WB_NUMERIC"),
    ("ExtendNumLet", "RS_WB_EXTENDNUMLET"),
    ("WSegSpace", "RS_WB_WSEGSPACE"),
]
WB_INDEX = {name: i for i, (name, _) in enumerate(WB_VALUES)}

UP_EXTPICT = 0x20
UP_WORD = 0x40
UP_FOLDS = 0x80
WORD_GC = {"Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Pc"}

INPUTS = [
    "UnicodeData.txt",
    "CaseFolding.txt",
    "PropList.txt",
    "auxiliary/WordBreakProperty.txt",
    "emoji/emoji-data.txt",
]


class GenError(Exception):
    pass


def read_lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except OSError as e:
        raise GenError("cannot read %s: %s" % (path, e.strerror))


def file_version(lines, stem):
    """Version from a '# Stem-X.Y.Z.txt' first line, or None."""
    m = re.match(r"#\s*%s-(\d+\.\d+\.\d+)\.txt" % re.escape(stem), lines[0] if lines else "")
    return m.group(1) if m else None


def data_fields(lines, path):
    """Yield (line number, [fields]) for each data line of a UCD ';' file."""
    for no, line in enumerate(lines, 1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        yield no, [f.strip() for f in body.split(";")]


def parse_range(text, path, no):
    try:
        if ".." in text:
            lo, hi = text.split("..")
            lo, hi = int(lo, 16), int(hi, 16)
        else:
            lo = hi = int(text, 16)
    except ValueError:
        raise GenError("%s:%d: bad code point range %r" % (path, no, text))
    if not (0 <= lo <= hi < NCP):
        raise GenError("%s:%d: range out of bounds %r" % (path, no, text))
    return lo, hi


def range_property(lines, path, wanted):
    """[(lo, hi, value)] for lines 'range ; value' with value in wanted
    (or any value when wanted is None)."""
    out = []
    for no, f in data_fields(lines, path):
        if len(f) < 2:
            raise GenError("%s:%d: expected 'range ; value'" % (path, no))
        if wanted is None or f[1] in wanted:
            lo, hi = parse_range(f[0], path, no)
            out.append((lo, hi, f[1]))
    return out


def general_categories(lines, path):
    """List of 0x110000 General_Category strings ('Cn' where unassigned)."""
    gc = ["Cn"] * NCP
    first = None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        f = line.split(";")
        if len(f) < 3:
            raise GenError("%s:%d: too few fields" % (path, no))
        cp = parse_range(f[0], path, no)[0]
        name, cat = f[1], f[2]
        if name.endswith(", First>"):
            first = cp
            continue
        if name.endswith(", Last>"):
            if first is None:
                raise GenError("%s:%d: range end without start" % (path, no))
            for c in range(first, cp + 1):
                gc[c] = cat
            first = None
            continue
        gc[cp] = cat
    return gc


def utf8_len(cp):
    return 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4


def two_stage(values):
    """Split values (length NCP) into (stage1 list, stage2 list, nblocks),
    deduplicating 128-entry blocks in order of first appearance."""
    index = {}
    stage1 = []
    stage2 = []
    for b in range(NCP // BLOCK):
        blk = tuple(values[b * BLOCK:(b + 1) * BLOCK])
        if blk not in index:
            index[blk] = len(index)
            stage2.extend(blk)
        stage1.append(index[blk])
    return stage1, stage2, len(index)


def c_array(ctype, name, values, per_line, fmt):
    out = ["const %s %s[%d] = {" % (ctype, name, len(values))]
    for i in range(0, len(values), per_line):
        out.append("    " + ", ".join(fmt(v) for v in values[i:i + per_line]) + ",")
    out.append("};")
    return "\n".join(out)


def generate(ucd, expect_version):
    texts = {rel: read_lines(os.path.join(ucd, rel)) for rel in INPUTS}
    versions = {
        "CaseFolding.txt": file_version(texts["CaseFolding.txt"], "CaseFolding"),
        "PropList.txt": file_version(texts["PropList.txt"], "PropList"),
        "auxiliary/WordBreakProperty.txt": file_version(
            texts["auxiliary/WordBreakProperty.txt"], "WordBreakProperty"),
    }
    for rel, v in versions.items():
        if v is None:
            raise GenError("%s: no version in its first line" % rel)
    if len(set(versions.values())) != 1:
        raise GenError("input files of different versions: %r" % versions)
    version = next(iter(versions.values()))
    emoji_ver = None
    for line in texts["emoji/emoji-data.txt"][:40]:
        m = re.search(r"Emoji Version (\d+\.\d+)", line)
        if m:
            emoji_ver = m.group(1)
            break
    if emoji_ver is None or not version.startswith(emoji_ver + "."):
        raise GenError("emoji-data.txt version %s does not match %s" % (emoji_ver, version))
    if expect_version and version != expect_version:
        raise GenError("data is Unicode %s, expected %s (the word-break rules in "
                       "tokenize_scalar.c are those of %s; pass --expect-version '' "
                       "to override)" % (version, expect_version, expect_version))

    props = [0] * NCP

    path = "auxiliary/WordBreakProperty.txt"
    for lo, hi, val in range_property(texts[path], path, None):
        if val not in WB_INDEX or val == "Other":
            raise GenError("%s: unknown Word_Break value %r" % (path, val))
        for c in range(lo, hi + 1):
            if props[c] & 0x1F:
                raise GenError("%s: U+%04X listed twice" % (path, c))
            props[c] = WB_INDEX[val]

    path = "emoji/emoji-data.txt"
    for lo, hi, _ in range_property(texts[path], path, {"Extended_Pictographic"}):
        for c in range(lo, hi + 1):
            props[c] |= UP_EXTPICT

    gc = general_categories(texts["UnicodeData.txt"], "UnicodeData.txt")
    ideographic = [False] * NCP
    for lo, hi, _ in range_property(texts["PropList.txt"], "PropList.txt", {"Ideographic"}):
        for c in range(lo, hi + 1):
            ideographic[c] = True
    for c in range(NCP):
        if gc[c] in WORD_GC or ideographic[c]:
            props[c] |= UP_WORD

    path = "CaseFolding.txt"
    fold = [0] * NCP
    for no, f in data_fields(texts[path], path):
        if len(f) < 3:
            raise GenError("%s:%d: expected 'code; status; mapping'" % (path, no))
        if f[1] not in ("C", "S"):
            continue
        src = parse_range(f[0], path, no)[0]
        dst = f[2].split()
        if len(dst) != 1:
            raise GenError("%s:%d: status %s maps to %d code points" % (path, no, f[1], len(dst)))
        dst = int(dst[0], 16)
        if fold[src]:
            raise GenError("%s:%d: U+%04X folded twice" % (path, no, src))
        fold[src] = dst - src
        props[src] |= UP_FOLDS

    # Facts the C code relies on; fail here rather than tokenize wrongly.
    for c in range(NCP):
        d = fold[c]
        if d:
            t = c + d
            if fold[t]:
                raise GenError("folding is not idempotent at U+%04X" % c)
            if 2 * utf8_len(t) > 3 * utf8_len(c):
                raise GenError("folding U+%04X grows UTF-8 by more than 3/2" % c)
            if c < 0x80 and t >= 0x80:
                raise GenError("folding U+%04X leaves ASCII" % c)
    for c in range(0x80):
        want = c + 32 if 0x41 <= c <= 0x5A else c
        if c + fold[c] != want:
            raise GenError("ASCII folding of U+%04X is not the A-Z rule" % c)
    if props[0xFFFD] != 0:
        raise GenError("U+FFFD must be WB=Other, not pictographic, not a word char")

    pstage1, pstage2, pblocks = two_stage(props)
    if pstage1[0] != 0:
        raise GenError("internal: ASCII block must be stage-2 block 0")
    if pblocks > 0xFFFF:
        raise GenError("internal: too many property blocks")

    fstage1, fstage2, _ = two_stage(fold)
    # Cut stage 1 after the last block that folds something; the zero block
    # is the first all-zero one, lookups past the end return cp unchanged.
    last = max(b for b, v in enumerate(fstage1) if any(fold[b * BLOCK:(b + 1) * BLOCK]))
    fstage1 = fstage1[:last + 1]
    used = sorted(set(fstage1))
    remap = {old: new for new, old in enumerate(used)}
    fstage1 = [remap[v] for v in fstage1]
    fstage2 = [d for old in used for d in fstage2[old * BLOCK:(old + 1) * BLOCK]]

    nfold = sum(1 for d in fold if d)
    wb_counts = {}
    for p in props:
        wb_counts[p & 0x1F] = wb_counts.get(p & 0x1F, 0) + 1

    cmd = "python3 scripts/gen_unicode.py %s" % ucd
    head = [
        "/*",
        " * unicode_tables.c - GENERATED FILE, DO NOT EDIT.",
        " *",
        " * Generated by: %s" % cmd,
        " * Unicode version: %s (Emoji %s)" % (version, emoji_ver),
        " * From: UnicodeData.txt (General_Category), PropList.txt (Ideographic),",
        " *       auxiliary/WordBreakProperty.txt (Word_Break),",
        " *       emoji/emoji-data.txt (Extended_Pictographic),",
        " *       CaseFolding.txt (simple folding: statuses C and S).",
        " *",
        " * Two-stage tables declared in unicode.h: stage 1 holds, per block of",
        " * %d code points, the index of a stage-2 block; identical stage-2 blocks" % BLOCK,
        " * are stored once. Property byte: bits 0-4 Word_Break (RS_WB_*), bit 5",
        " * Extended_Pictographic, bit 6 word char (gc Lu Ll Lt Lm Lo Nd Pc, or Ideographic),",
        " * bit 7 changes under simple case folding. Fold entries are deltas",
        " * (folded - original); the fold stage 1 stops after the last block that",
        " * folds anything.",
        " *",
        " * Contents: %d property blocks (%d bytes), %d folding code points in %d"
        % (pblocks, len(pstage2), nfold, len(used)),
        " * delta blocks (%d bytes), %d stage-1 fold entries."
        % (4 * len(fstage2), len(fstage1)),
        " */",
        "#include \"unicode.h\"",
        "",
        "/* The numbering is frozen: the tables below were generated with it. */",
    ]
    for i, (_, cname) in enumerate(WB_VALUES):
        head.append("_Static_assert(%s == %d, \"Word_Break numbering changed\");" % (cname, i))
    head.append("_Static_assert(RS_WB_COUNT == %d, \"Word_Break numbering changed\");"
                % len(WB_VALUES))
    head.append("_Static_assert(RS_UNICODE_SHIFT == %d, \"block size changed: regenerate\");"
                % SHIFT)
    head.append("_Static_assert(RS_UP_EXTPICT == 0x%02X && RS_UP_WORD == 0x%02X && "
                "RS_UP_FOLDS == 0x%02X, \"property bits changed\");"
                % (UP_EXTPICT, UP_WORD, UP_FOLDS))
    head.append("")
    head.append("const char rs_unicode_version[] = \"%s\";" % version)
    head.append("")

    body = [
        c_array("uint16_t", "rs_unicode_props_stage1", pstage1, 16, lambda v: "%d" % v),
        "",
        c_array("uint8_t", "rs_unicode_props_stage2", pstage2, 16, lambda v: "0x%02X" % v),
        "const size_t rs_unicode_props_stage2_len = %d;" % len(pstage2),
        "",
        c_array("uint16_t", "rs_unicode_fold_stage1", fstage1, 16, lambda v: "%d" % v),
        "const size_t rs_unicode_fold_stage1_len = %d;" % len(fstage1),
        "",
        c_array("int32_t", "rs_unicode_fold_stage2", fstage2, 12, lambda v: "%d" % v),
        "const size_t rs_unicode_fold_stage2_len = %d;" % len(fstage2),
        "",
    ]
    summary = "Unicode %s: %d property blocks, %d folds, Word_Break counts %s" % (
        version, pblocks, nfold,
        ", ".join("%s=%d" % (WB_VALUES[k][0], v) for k, v in sorted(wb_counts.items())))
    return "\n".join(head + body), summary


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Generate kernels/unicode_tables.c")
    ap.add_argument("ucd", nargs="?", default="/usr/share/unicode",
                    help="Unicode Character Database directory (default %(default)s)")
    ap.add_argument("-o", "--output",
                    default=os.path.join(os.path.dirname(here), "kernels", "unicode_tables.c"))
    ap.add_argument("--expect-version", default="15.0.0",
                    help="refuse other Unicode versions ('' accepts any)")
    args = ap.parse_args(argv)
    try:
        text, summary = generate(args.ucd, args.expect_version)
    except GenError as e:
        sys.stderr.write("gen_unicode.py: %s\n" % e)
        return 1
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    os.replace(tmp, args.output)
    sys.stderr.write("%s\nwrote %s\n" % (summary, args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
