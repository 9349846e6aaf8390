#!/usr/bin/env bash
# CLI tests for `rostrum scan`, run by ctest: cli_test.sh CASE ROSTRUM SOURCE_DIR [EXTRA]
# Each case prints what it checks and exits non-zero on the first failure.
# Test data is written by the project (sample/, tests/) or generated here in
# a temporary directory; ../shared is used only by the corpus case.
set -u
case_name=$1 rostrum=$2 src=$3 extra=${4:-}
tmp=$(mktemp -d)
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL [$case_name]: $*" >&2; exit 1; }
ok() { echo "ok [$case_name]: $*"; }
norun() { grep -v '^  "run": ' "$1"; }   # the report without its run line
validate() { python3 "$src/tests/tools/validate_json.py" "$src/docs/report.schema.json" "$1" || fail "schema: $1"; }
jq_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
lex=(--topics "$src/sample/lexicons/topics.yml" --entities "$src/sample/lexicons/entities.yml")

case $case_name in
sample)
    # The bundled sample against the reviewed expected report.
    (cd "$src" && "$rostrum" scan sample/transcripts --topics sample/lexicons/topics.yml \
        --entities sample/lexicons/entities.yml --json "$tmp/r.json" --quiet) || fail "exit $?"
    validate "$tmp/r.json"
    diff <(norun "$tmp/r.json") "$src/tests/cli/expected/sample.json" || fail "report differs from tests/cli/expected/sample.json"
    ok "sample report equals the expected one and validates"
    ;;
determinism)
    # Same input, same bytes (outside run), twice; CSV tables all written.
    "$rostrum" scan "$src/sample/transcripts" "${lex[@]}" --json "$tmp/a.json" --csv "$tmp/csv" --quiet || fail "exit $?"
    "$rostrum" scan "$src/sample/transcripts" "${lex[@]}" --json "$tmp/b.json" --quiet || fail "exit $?"
    cmp <(norun "$tmp/a.json") <(norun "$tmp/b.json") || fail "two runs differ"
    for t in corpus speakers speaker_topics topics topic_speakers topic_patterns entities entity_speakers \
             entity_aliases terms bigrams documents skipped; do
        [ -s "$tmp/csv/$t.csv" ] || fail "missing CSV $t.csv"
    done
    [ "$(head -1 "$tmp/csv/speakers.csv")" = "speaker,turns,tokens,share,questions,documents" ] || fail "speakers.csv header"
    [ "$(grep -c '' "$tmp/csv/speakers.csv")" = "$(( $(jq_py "$tmp/a.json" 'len(d["speakers"])') + 1 ))" ] || fail "speakers.csv rows"
    # Workers on two NUMA nodes (hwloc's synthetic topology stands in for such a machine): a
    # queue and shard buffers per node, the same report.
    for j in 2 4; do
        HWLOC_SYNTHETIC="node:2 core:2 pu:1" "$rostrum" scan "$src/sample/transcripts" "${lex[@]}" -j $j --shard-size 4K \
            --json "$tmp/n.json" --quiet || fail "two NUMA nodes, -j $j: exit $?"
        validate "$tmp/n.json"
        cmp -s <(norun "$tmp/a.json") <(norun "$tmp/n.json") || fail "two NUMA nodes, -j $j: report differs"
        [ "$(jq_py "$tmp/n.json" 'd["run"]["numa"]["nodes"]')" = 2 ] || fail "two NUMA nodes, -j $j: run $(jq_py "$tmp/n.json" 'd["run"]')"
    done
    ok "byte-identical reruns; 13 CSV tables; the same report on two NUMA nodes ($(jq_py "$tmp/n.json" 'd["run"]["numa"]'))"
    ;;
binding)
    # A process bound to one CPU (taskset, a batch system, mpirun --bind-to) counts and pins
    # its workers inside that binding: two processes bound apart never share a core.
    command -v taskset > /dev/null || { echo "SKIP [$case_name]: no taskset here; the binding check did not run"; exit 0; }
    ncpu=$(nproc) # the CPUs this test may use
    if [ "$ncpu" -lt 2 ]; then echo "SKIP [$case_name]: one CPU allowed here; nothing to bind apart"; exit 0; fi
    last=$(python3 -c 'import os; print(max(os.sched_getaffinity(0)))')
    taskset -c $last "$rostrum" scan "$src/sample/transcripts" --json "$tmp/b.json" --quiet || fail "exit $?"
    [ "$(jq_py "$tmp/b.json" 'd["run"]["threads"]')" = 1 ] || fail "bound to one CPU, yet $(jq_py "$tmp/b.json" 'd["run"]["threads"]') workers"
    jq_py "$tmp/b.json" 'd["run"]["topology"]' | grep -q '1 PU' || fail "topology: $(jq_py "$tmp/b.json" 'd["run"]["topology"]')"
    [ "$(jq_py "$tmp/b.json" 'd["run"]["pinned"]')" = True ] || fail "not pinned inside the binding"
    # the worker thread must stay on the CPU the process was given
    yes 'a few words for a worker to count ' | head -c 80000000 > "$tmp/big.txt"
    taskset -c $last "$rostrum" scan "$tmp/big.txt" --json /dev/null --quiet &
    pid=$!
    sleep 0.5
    masks=$(for t in /proc/$pid/task/*; do taskset -p "${t##*/}" 2> /dev/null | sed 's/.*: //'; done | sort -u)
    wait $pid || fail "exit $?"
    want=$(printf '%x' $((1 << last)))
    [ -n "$masks" ] || echo "note [$case_name]: the scan ended before its threads were looked at"
    [ -z "$masks" ] || [ "$masks" = "$want" ] || fail "threads ran outside CPU $last: masks $masks"
    # rostrum devices shows the topology such a scan uses: cut down to the binding, 1 worker
    taskset -c $last "$rostrum" devices > "$tmp/dev.txt" || fail "devices: exit $?"
    grep -q '^  scan workers by default: 1 ' "$tmp/dev.txt" || fail "devices bound to one CPU: $(grep 'workers' "$tmp/dev.txt")"
    [ "$(sed -n 's/^topology: //p' "$tmp/dev.txt")" = "$(jq_py "$tmp/b.json" 'd["run"]["topology"]')" ] ||
        fail "devices says $(grep '^topology' "$tmp/dev.txt"), the scan used $(jq_py "$tmp/b.json" 'd["run"]["topology"]')"
    grep -q "bound to PUs $last of" "$tmp/dev.txt" || fail "devices does not name the binding"
    ok "bound to CPU $last of $ncpu: 1 worker, pinned there, topology $(jq_py "$tmp/b.json" 'd["run"]["topology"]'), as devices says"
    ;;
bind_warnings)
    # Binding is best effort (docs/report.md, run): hwloc's synthetic topologies taken for this
    # machine (HWLOC_THISSYSTEM=1) name NUMA nodes and PUs it lacks, so binding fails (EINVAL);
    # each failure is a warning on stderr, and the report is the normal one.
    "$rostrum" scan "$src/sample/transcripts" "${lex[@]}" --json "$tmp/ref.json" --quiet || fail "exit $?"
    [ ! -e /sys/devices/system/node/node1000 ] || { echo "SKIP [$case_name]: this machine has a NUMA node 1000"; exit 0; }
    HWLOC_THISSYSTEM=1 HWLOC_SYNTHETIC="node:2(indexes=1000,1001) core:1 pu:1" "$rostrum" scan "$src/sample/transcripts" \
        "${lex[@]}" -j 2 --shard-size 4K --json "$tmp/n.json" --quiet 2> "$tmp/err" || fail "NUMA nodes 1000, 1001: exit $?"
    validate "$tmp/n.json"
    cmp -s <(norun "$tmp/ref.json") <(norun "$tmp/n.json") || fail "NUMA nodes 1000, 1001: report differs"
    n=$(jq_py "$tmp/n.json" 'd["run"]["numa"]["buffers"]')
    [ "$(jq_py "$tmp/n.json" 'd["run"]["numa"]["bound"]')" = 0 ] && [ "$n" -ge 2 ] || fail "numa: $(jq_py "$tmp/n.json" 'd["run"]["numa"]')"
    grep -qx "rostrum: warning: $n of $n shard buffers not bound to their NUMA node (Invalid argument); they lie where the system puts them" \
        "$tmp/err" || fail "NUMA nodes 1000, 1001: no warning on stderr: $(cat "$tmp/err")"
    echo "  shard buffers on absent NUMA nodes: $(grep -c warning "$tmp/err") warning, the same report"
    [ ! -e /sys/devices/system/cpu/cpu4000 ] || { echo "SKIP [$case_name]: this machine has a CPU 4000"; exit 0; }
    HWLOC_THISSYSTEM=1 HWLOC_SYNTHETIC="node:1 core:2 pu:1(indexes=4000,4001)" "$rostrum" scan "$src/sample/transcripts" \
        "${lex[@]}" -j 2 --json "$tmp/p.json" --quiet 2> "$tmp/err" || fail "PUs 4000, 4001: exit $?"
    validate "$tmp/p.json"
    cmp -s <(norun "$tmp/ref.json") <(norun "$tmp/p.json") || fail "PUs 4000, 4001: report differs"
    [ "$(jq_py "$tmp/p.json" 'd["run"]["pinned"]')" = False ] || fail "PUs 4000, 4001: run.pinned is not false"
    for w in 1 2; do
        grep -qx "rostrum: warning: worker $w of 2 not pinned to a PU (Invalid argument); it runs where the system puts it" \
            "$tmp/err" || fail "PUs 4000, 4001: no warning for worker $w: $(cat "$tmp/err")"
    done
    ok "binding failures (NUMA nodes and PUs this machine lacks) are warnings; the report is the same"
    ;;
progress)
    # --progress: a line on stderr when it is a terminal (auto) or when asked (always: every 5 s
    # and one at the end), none otherwise: documents and bytes done, MB/s, and, when the inputs'
    # size is known (not stdin; archives by their stored size), the share done and an ETA.
    gen=$extra
    "$gen" --size 4M --seed 5 --out "$tmp/g.tar" 2> /dev/null || fail "gen_corpus"
    mkdir "$tmp/d" && tar -xf "$tmp/g.tar" -C "$tmp/d" || fail "untar"
    one=$(find "$tmp/d" -type f -name '*.txt' | sort | head -1)
    num='[0-9]+\.[0-9]'
    "$rostrum" scan "$tmp/d" --progress always --json "$tmp/r.json" --quiet 2> "$tmp/err" || fail "always: exit $?"
    docs=$(jq_py "$tmp/r.json" 'd["corpus"]["documents"]')
    mb=$(jq_py "$tmp/r.json" '"%.1f" % (d["corpus"]["bytes"] / 1e6)')
    re="^rostrum: $docs documents, $mb MB scanned \(100% of $mb MB of input\), $mb MB read, $num MB/s, [0-9]+ workers?, [0-9]+ s, done\$"
    [ "$(tail -1 "$tmp/err")" ] && tail -1 "$tmp/err" | grep -Eq "$re" || fail "always: the last line is not like '$re': $(cat "$tmp/err")"
    ! grep -v '^rostrum: [0-9]* documents, ' "$tmp/err" || fail "always: stderr has more than progress lines"
    always=$(tail -1 "$tmp/err")
    "$rostrum" scan - --progress always --json /dev/null --quiet < "$one" 2> "$tmp/err" || fail "stdin: exit $?"
    grep -Eqx "rostrum: 1 document, $num MB scanned, $num MB read, $num MB/s, [0-9]+ workers?, [0-9]+ s, done" "$tmp/err" ||
        fail "always, stdin (size unknown): $(cat "$tmp/err")"
    # a compressed archive: the share of its stored (compressed) bytes
    gzip -c "$tmp/g.tar" > "$tmp/g.tar.gz" || fail "gzip"
    gz=$(python3 -c 'import os, sys; print("%.1f" % (os.path.getsize(sys.argv[1]) / 1e6))' "$tmp/g.tar.gz")
    "$rostrum" scan "$tmp/g.tar.gz" --progress always --json /dev/null --quiet 2> "$tmp/err" || fail "tar.gz: exit $?"
    grep -Eq "^rostrum: $docs documents, $num MB scanned \(100% of $gz MB of input\), .*, done\$" "$tmp/err" ||
        fail "always, tar.gz: not 100% of its $gz MB: $(cat "$tmp/err")"
    for p in "--progress never" "--progress auto" ""; do
        "$rostrum" scan "$tmp/d" $p --json /dev/null --quiet 2> "$tmp/err" || fail "'$p': exit $?"
        [ ! -s "$tmp/err" ] || fail "'$p' with stderr not a terminal wrote: $(cat "$tmp/err")"
    done
    # on a terminal (util-linux script): the line redrawn in place with its ETA, none for stdin
    if ! command -v script > /dev/null; then
        echo "SKIP [$case_name]: no util-linux script here; the terminal checks did not run"
    else
        script -qec "'$rostrum' scan '$tmp/d' --json /dev/null --quiet" /dev/null < /dev/null > "$tmp/tty" || fail "tty: exit $?"
        grep -Eq $'\r'"rostrum: [0-9]+ documents?, $num MB scanned \([0-9]+% of $mb MB of input\), $num MB read, .*, ETA [0-9]+ (s|min|h)" \
            "$tmp/tty" || fail "tty: no line with an ETA: $(cat -v "$tmp/tty")"
        etas=$(tr '\r' '\n' < "$tmp/tty" | grep -c ETA)
        [ "$(tail -c 4 "$tmp/tty" | od -An -c | tr -d ' ')" = '\r033[K' ] || fail "tty: the line is not cleared at the end"
        script -qec "'$rostrum' scan - --json /dev/null --quiet < '$one'" /dev/null < /dev/null > "$tmp/tty" || fail "tty stdin: exit $?"
        grep -q 'rostrum: 1 document, ' "$tmp/tty" || fail "tty stdin: no progress line: $(cat -v "$tmp/tty")"
        ! grep -Eq 'ETA|%' "$tmp/tty" || fail "tty stdin: an ETA for input of unknown size: $(cat -v "$tmp/tty")"
        script -qec "'$rostrum' scan '$tmp/d' --progress never --json /dev/null --quiet" /dev/null < /dev/null > "$tmp/tty" || fail "tty never: exit $?"
        [ ! -s "$tmp/tty" ] || fail "tty, --progress never wrote: $(cat -v "$tmp/tty")"
        echo "  on a terminal: $etas line(s) with an ETA, none for stdin"
    fi
    ok "--progress always: '$always'; none when stderr is not a terminal (auto, never)"
    ;;
interrupt)
    # Ctrl-C (SIGINT) during a scan: workers finish the document in hand, the report is written
    # and says it is partial (run.partial), exit status 130. The input is generated large enough
    # that the scan is still running when the signal comes (made larger and run again if not).
    gen=$extra
    for size in 64 128 256; do
        "$gen" --size ${size}M --seed 7 --out "$tmp/g.tar" 2> "$tmp/gen.err" || fail "gen_corpus"
        total=$(sed -n 's/^gen_corpus: \([0-9]*\) documents.*/\1/p' "$tmp/gen.err")
        rm -f "$tmp/r.json"
        "$rostrum" scan "$tmp/g.tar" -j 1 --progress always --json "$tmp/r.json" --quiet 2> "$tmp/err" &
        pid=$!
        # the handler is set before the workers start: wait for a second thread, then a little
        for _ in $(seq 200); do [ "$(ls /proc/$pid/task 2> /dev/null | wc -l)" -ge 2 ] && break; sleep 0.02; done
        sleep 0.1
        kill -INT $pid 2> /dev/null
        wait $pid
        rc=$?
        # all documents counted, exit 0: the scan was over before the signal came
        [ $rc = 0 ] && [ -s "$tmp/r.json" ] && [ "$(jq_py "$tmp/r.json" 'd["corpus"]["documents"]')" = "$total" ] || break
        echo "note [$case_name]: all $size MB were scanned before the signal came"
    done
    [ $rc != 0 ] || [ "$(jq_py "$tmp/r.json" 'd["corpus"]["documents"]')" != "$total" ] ||
        fail "every scan (the last of $size MB) ended before SIGINT reached it: nothing was interrupted"
    [ $rc = 130 ] || fail "exit $rc after SIGINT, expected 130: $(cat "$tmp/err")"
    [ -s "$tmp/r.json" ] || fail "no report written after SIGINT (killed by it?): $(cat "$tmp/err")"
    validate "$tmp/r.json"
    [ "$(jq_py "$tmp/r.json" 'd["run"]["partial"]')" = True ] || fail "run.partial is not true"
    docs=$(jq_py "$tmp/r.json" 'd["corpus"]["documents"]')
    [ "$docs" -lt "$total" ] || fail "documents $docs, not fewer than the archive's $total"
    grep -q '^rostrum: interrupted: the report covers only the documents finished$' "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
    grep -Eq '^rostrum: [0-9]+ documents, .*, interrupted$' "$tmp/err" || fail "no last progress line saying interrupted: $(cat "$tmp/err")"
    ok "SIGINT after the workers started: exit 130, a partial report of $docs of $total documents"
    ;;
gen_corpus)
    # bench/gen_corpus: the same seed and size give the same bytes, another seed others, and
    # rostrum takes every document of it.
    gen=$extra
    "$gen" --size 2M --seed 3 --out "$tmp/a.tar" 2> "$tmp/gen.err" || fail "gen_corpus: exit $?"
    "$gen" --size 2M --seed 3 > "$tmp/b.tar" 2> /dev/null || fail "gen_corpus to stdout: exit $?"
    "$gen" --size 2M --seed 4 --out "$tmp/c.tar" 2> /dev/null || fail "gen_corpus --seed 4: exit $?"
    cmp -s "$tmp/a.tar" "$tmp/b.tar" || fail "two runs with seed 3 differ"
    ! cmp -s "$tmp/a.tar" "$tmp/c.tar" || fail "seeds 3 and 4 give the same bytes"
    [ "$(stat -c %s "$tmp/a.tar")" -ge $((2 << 20)) ] || fail "smaller than --size 2M"
    total=$(sed -n 's/^gen_corpus: \([0-9]*\) documents.*/\1/p' "$tmp/gen.err")
    [ "$(tar -tf "$tmp/a.tar" | grep -c '')" = "$total" ] || fail "tar lists $(tar -tf "$tmp/a.tar" | grep -c '') members, gen_corpus said $total"
    "$rostrum" scan "$tmp/a.tar" "${lex[@]}" --json "$tmp/r.json" --quiet || fail "scan: exit $?"
    validate "$tmp/r.json"
    [ "$(jq_py "$tmp/r.json" 'd["corpus"]["documents"]')" = "$total" ] || fail "documents $(jq_py "$tmp/r.json" 'd["corpus"]["documents"]') of $total"
    [ "$(jq_py "$tmp/r.json" 'len(d["corpus"]["skipped"])')" = 0 ] || fail "skipped: $(jq_py "$tmp/r.json" 'd["corpus"]["skipped"]')"
    "$gen" --no-such-flag 2> "$tmp/err"; [ $? = 2 ] && grep -q '^usage: gen_corpus' "$tmp/err" || fail "a bad flag: no usage, exit 2"
    ok "seed 3 twice: the same $(stat -c %s "$tmp/a.tar") bytes; seed 4 differs; $total documents scanned, none skipped"
    ;;
stdin)
    f="$src/sample/transcripts/council-debate.txt"
    "$rostrum" scan "$f" --json "$tmp/a.json" --quiet || fail "exit $?"
    "$rostrum" scan - --json "$tmp/b.json" --quiet < "$f" || fail "exit $?"
    [ "$(jq_py "$tmp/b.json" 'd["documents"][0]["path"]')" = "-" ] || fail "stdin path is not -"
    diff <(norun "$tmp/a.json" | grep -v '"path"') <(norun "$tmp/b.json" | grep -v '"path"') || fail "stdin differs from the file"
    ok "stdin reads as the file does"
    ;;
bad_inputs)
    # Every kind of bad input is skipped by name or counted; nothing else is lost.
    d=$tmp/in; mkdir -p "$d/sub"
    printf 'Alice: hello there\nBob: hi\n' > "$d/good.txt"
    printf '' > "$d/empty.txt"                                   # 0 bytes
    printf 'one line, no newline' > "$d/oneline.txt"
    printf 'bad \xff\xfe bytes \xc3 and \xe2\x82 end\n' > "$d/invalid.txt" # 5 invalid bytes: ff fe c3 e2 82
    printf 'PNG\x00\x01\x02binary' > "$d/binary.txt"
    printf '\xff\xfeh\x00i\x00' > "$d/utf16.txt"
    printf '\xef\xbb\xbfAlice: with a BOM\n' > "$d/bom.txt"
    ln -s "$d/nowhere.txt" "$d/dangling.txt"
    ln -s "$d" "$d/sub/loop"
    "$rostrum" scan "$d" "$tmp/missing.txt" --json "$tmp/r.json" --quiet 2> "$tmp/err"
    rc=$?
    [ $rc = 1 ] || fail "exit $rc, expected 1 (some inputs skipped)"
    validate "$tmp/r.json"
    [ "$(jq_py "$tmp/r.json" 'd["corpus"]["documents"]')" = 5 ] || fail "documents: expected 5 (good empty oneline invalid bom)"
    [ "$(jq_py "$tmp/r.json" 'd["corpus"]["invalid_utf8_bytes"]')" = 5 ] || fail "invalid_utf8_bytes: expected 5"
    [ "$(jq_py "$tmp/r.json" 'len(d["corpus"]["skipped"])')" = 5 ] || fail "skipped: expected 5"
    for what in "binary.txt: binary file" "utf16.txt: UTF-16" "dangling.txt: broken symlink" "loop: symlink loop" \
                "missing.txt: No such file"; do
        grep -q "$what" "$tmp/r.json" || fail "no skipped entry with '$what'"
        grep -q "$what" "$tmp/err" || fail "stderr does not name '$what'"
    done
    [ "$(jq_py "$tmp/r.json" '[s["name"] for s in d["speakers"]]')" = "['Alice', 'Bob']" ] || fail "speakers"
    [ "$(jq_py "$tmp/r.json" '[t["term"] for t in d["terms"] if t["term"] in ("bad","bytes","and","end")]')" = \
      "['and', 'bad', 'bytes', 'end']" ] || fail "words around invalid bytes are lost"
    ok "5 bad inputs skipped by name, 5 invalid bytes counted, good documents kept"
    ;;
jsonl_keys)
    # --jsonl-text, --jsonl-speaker and --jsonl-doc (a key, and @line) from the command line.
    f="$src/tests/data/formats/episodes.jsonl"
    keys=(--jsonl-speaker who --jsonl-text utterance)
    "$rostrum" scan "$f" "${keys[@]}" --jsonl-doc episode --json "$tmp/g.json" --quiet 2> "$tmp/err" || fail "exit $?"
    validate "$tmp/g.json"
    [ "$(jq_py "$tmp/g.json" '[x["path"].split("/")[-1] for x in d["documents"]]')" = \
      "['episodes.jsonl', 'episodes.jsonl#e1', 'episodes.jsonl#e2']" ] || fail "documents by episode: $(jq_py "$tmp/g.json" '[x["path"] for x in d["documents"]]')"
    [ "$(jq_py "$tmp/g.json" '[(s["name"], s["turns"]) for s in d["speakers"]]')" = "[('Host', 3), ('Guest', 1)]" ] ||
        fail "speakers: $(jq_py "$tmp/g.json" 'd["speakers"]')"
    grep -q "episodes.jsonl: 1 bad JSON line skipped: line 4" "$tmp/err" || fail "the bad line is not named: $(cat "$tmp/err")"
    "$rostrum" scan "$f" "${keys[@]}" --jsonl-doc @line --json "$tmp/l.json" --quiet 2>/dev/null || fail "exit $?"
    [ "$(jq_py "$tmp/l.json" '[x["path"].split("#")[1] for x in d["documents"]]')" = "['1', '2', '3', '5']" ] ||
        fail "documents by line: $(jq_py "$tmp/l.json" '[x["path"] for x in d["documents"]]')"
    # the documents differ, the tokens must not
    [ "$(jq_py "$tmp/g.json" 'd["corpus"]["tokens"]')" = "$(jq_py "$tmp/l.json" 'd["corpus"]["tokens"]')" ] ||
        fail "tokens differ between grouping by key and by line"
    "$rostrum" scan "$f" --json "$tmp/d.json" --quiet 2>/dev/null
    [ "$(jq_py "$tmp/d.json" 'd["corpus"]["tokens"]')" = 0 ] || fail "default keys (text, speaker) found text under 'utterance'"
    ok "JSON Lines keys and grouping from the command line"
    ;;
lexicon_errors)
    printf 'economy:\n  - jobs\n  - "unterminated\n' > "$tmp/bad.yml"
    printf 'economy\tjobs\nno tab here\n' > "$tmp/bad.tsv"
    printf 'economy\tsec*urity\n' > "$tmp/star.tsv"
    for spec in "bad.yml:3:" "bad.tsv:2:" "star.tsv:1:"; do
        f=${spec%%:*}
        "$rostrum" scan "$src/sample/transcripts" --topics "$tmp/$f" --json "$tmp/out.json" --quiet 2> "$tmp/err"
        rc=$?
        [ $rc = 2 ] || fail "$f: exit $rc, expected 2"
        grep -q "$tmp/$spec" "$tmp/err" || fail "$f: message does not name $spec: $(cat "$tmp/err")"
        [ ! -e "$tmp/out.json" ] || fail "$f: a report was written"
    done
    "$rostrum" scan "$src/sample/transcripts" --entities "$tmp/none.yml" --quiet 2> "$tmp/err"
    [ $? = 2 ] && grep -q "none.yml" "$tmp/err" || fail "missing lexicon file"
    ok "malformed lexicons refused with file:line, exit 2, nothing written"
    ;;
usage)
    "$rostrum" scan --no-such-option x 2>/dev/null; [ $? = 2 ] || fail "unknown option: exit not 2"
    "$rostrum" scan 2>/dev/null; [ $? = 2 ] || fail "no path: exit not 2"
    "$rostrum" scan --format nope x 2>/dev/null; [ $? = 2 ] || fail "bad format: exit not 2"
    "$rostrum" scan --backend nope "$src/sample" 2>/dev/null; [ $? = 2 ] || fail "bad backend: exit not 2"
    "$rostrum" frobnicate 2>/dev/null; [ $? = 2 ] || fail "unknown command: exit not 2"
    "$rostrum" devices | grep -q scalar || fail "devices does not list scalar"
    ok "usage errors exit 2"
    ;;
big_line)
    # A 200 MB document on one line: 40,000,000 tokens, exactly.
    yes 'word ' | tr -d '\n' | head -c 200000000 > "$tmp/big.txt"
    "$rostrum" scan "$tmp/big.txt" --json "$tmp/r.json" --quiet || fail "exit $?"
    [ "$(jq_py "$tmp/r.json" 'd["corpus"]["tokens"]')" = 40000000 ] || fail "tokens: $(jq_py "$tmp/r.json" 'd["corpus"]["tokens"]')"
    [ "$(jq_py "$tmp/r.json" 'd["bigrams"][0]')" = "{'bigram': 'word word', 'count': 39999999}" ] || fail "bigram"
    # No white space at all: cut at character boundaries (docs/tokens.md), never a crash.
    head -c 50000000 /dev/zero | tr '\0' 'a' > "$tmp/nospace.txt"
    "$rostrum" scan "$tmp/nospace.txt" --json "$tmp/r2.json" --quiet || fail "no-space: exit $?"
    [ "$(jq_py "$tmp/r2.json" 'd["corpus"]["bytes"]')" = 50000000 ] || fail "no-space bytes"
    ok "200 MB single line: 40,000,000 tokens; 50 MB without white space"
    ;;
pieces)
    # A document larger than a shard comes in pieces cut at line ends (docs/formats.md): the
    # report is the same bytes, outside run, for shards of 4K to 1M and -j 1..4, for files and archive
    # members of every format; a member that breaks off is skipped whole; memory stays near the
    # shards, not the document.
    python3 "$src/tests/tools/big_docs.py" "$src" "$tmp/in" 2.5 || fail "generating documents"
    cp "$src/tests/data/formats/whisper.json" "$tmp/in/"
    tar -czf "$tmp/members.tar.gz" -C "$tmp/in" . && mv "$tmp/members.tar.gz" "$tmp/in/" || fail "tar"
    "$rostrum" scan "$tmp/in" "${lex[@]}" --json "$tmp/ref.json" --quiet -j 1 2> /dev/null || fail "exit $?"
    validate "$tmp/ref.json"
    [ "$(jq_py "$tmp/ref.json" 'd["run"]["split"]["documents"]')" = 0 ] || fail "2.5 MB documents split in 8 MiB shards"
    [ "$(jq_py "$tmp/ref.json" 'd["corpus"]["documents"]')" = 12 ] || fail "documents: $(jq_py "$tmp/ref.json" 'd["corpus"]["documents"]')"
    for sz in 4K 64K 1M; do
        for j in 1 2 3 4; do
            "$rostrum" scan "$tmp/in" "${lex[@]}" --json "$tmp/p.json" --quiet -j $j --shard-size $sz 2> /dev/null || fail "-j $j --shard-size $sz: exit $?"
            cmp -s <(norun "$tmp/ref.json") <(norun "$tmp/p.json") || fail "-j $j --shard-size $sz: report differs from whole documents"
            # 5 files and 5 members of 2.5 MB in pieces; whisper.json never (and too small)
            [ "$(jq_py "$tmp/p.json" 'd["run"]["split"]["documents"]')" = 10 ] || fail "-j $j --shard-size $sz: split $(jq_py "$tmp/p.json" 'd["run"]["split"]')"
        done
        echo "  --shard-size $sz: $(jq_py "$tmp/p.json" 'd["run"]["split"]["pieces"]') pieces, the same report at -j 1, 2, 3, 4"
    done
    # a tar cut off in the middle of a large member: it is skipped whole, in pieces or not
    python3 - "$tmp/in/interview.md" "$tmp/cut.tar" <<'PY' || fail "cut tar"
import io, sys, tarfile
data = open(sys.argv[1], "rb").read()
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
    for name, d in (("a.md", b"**Ann:** before the big one\n"), ("big.md", data), ("c.md", b"**Bob:** after\n")):
        i = tarfile.TarInfo(name); i.size = len(d); t.addfile(i, io.BytesIO(d))
open(sys.argv[2], "wb").write(buf.getvalue()[:512 * 4 + len(data) // 2])
PY
    "$rostrum" scan "$tmp/cut.tar" --json "$tmp/c1.json" --quiet 2> /dev/null
    "$rostrum" scan "$tmp/cut.tar" --json "$tmp/c2.json" --quiet --shard-size 4K 2> /dev/null
    cmp -s <(norun "$tmp/c1.json") <(norun "$tmp/c2.json") || fail "cut member: pieces change the report"
    [ "$(jq_py "$tmp/c2.json" 'd["run"]["split"]["documents"]')" = 1 ] || fail "cut member was not read in pieces"
    [ "$(jq_py "$tmp/c2.json" '[x["path"] for x in d["documents"]]')" = "['$tmp/cut.tar:a.md']" ] || fail "documents: $(jq_py "$tmp/c2.json" '[x["path"] for x in d["documents"]]')"
    grep -q 'cut.tar:big.md: damaged or truncated member data' "$tmp/c2.json" || fail "no skip note for the cut member"
    # memory: a 64 MiB document in 1 MiB shards, against the document's own size
    python3 "$src/tests/tools/big_docs.py" "$src" "$tmp/m" 64 interview.md || fail "generating 64 MiB"
    if grep -qa __asan_init "$rostrum"; then
        echo "SKIP [$case_name]: memory check not run: this is an ASan build (its quarantine keeps freed pieces)"
    else
        rss=$(python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$rostrum" scan "$tmp/m/interview.md" --json "$tmp/m.json" --quiet --shard-size 1M) || fail "64 MiB: exit"
        [ "$(jq_py "$tmp/m.json" 'd["run"]["split"]["pieces"]')" -ge 60 ] || fail "64 MiB: $(jq_py "$tmp/m.json" 'd["run"]["split"]')"
        [ "$rss" -lt 40000 ] || fail "64 MiB document in 1 MiB shards: peak RSS $rss KB, not under 40,000 KB"
        echo "  64 MiB document, --shard-size 1M: peak RSS $rss KB"
    fi
    ok "documents in pieces give the whole documents' report; a cut member is skipped whole"
    ;;
corpus)
    # The real podcast corpus, when ../shared is beside the checkout.
    tarball="$src/../shared/corpora/changelog-transcripts.tar.zst"
    if [ ! -f "$tarball" ]; then echo "SKIP [$case_name]: $tarball not present; the corpus check did not run"; exit 0; fi
    mkdir "$tmp/c" && tar --zstd -xf "$tarball" -C "$tmp/c" || fail "unpack"
    "$rostrum" scan "$tmp/c" --json "$tmp/r.json" --quiet || fail "exit $?"
    validate "$tmp/r.json"
    [ "$(jq_py "$tmp/r.json" 'd["corpus"]["documents"]')" = 2084 ] || fail "documents != 2084"
    python3 "$src/scripts/check_speakers.py" "$tmp/c" "$tmp/r.json" "$extra" || fail "independent speaker check"
    ok "podcast corpus: 2,084 documents, turns per speaker equal an independent count"
    ;;
*) fail "unknown case" ;;
esac
