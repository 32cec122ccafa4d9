#!/bin/sh
# gen-inventory.sh - write a synthetic device inventory (or the matching
# ota-emulator fixture) to stdout. Deterministic: the same arguments give
# the same bytes.
#
# usage: gen-inventory.sh ROWS [PRODUCTS [QUIRKS]]
#   ROWS      number of device rows (before quirks add blanks/duplicates)
#   PRODUCTS  number of ProductKeys (default 2: a1BwAGVabcd, a1Ko2mPq7Rt)
#   QUIRKS    plain    header DeviceName,ProductKey; LF; nothing else (default,
#                      the fast one for benchmarks: 10^7 rows in seconds)
#             excel    what Excel's "CSV UTF-8" export looks like: BOM, CRLF,
#                      header "Device Name,ProductKey,Site,Notes", quoted
#                      notes with commas, quotes and line breaks, surrounding
#                      spaces, blank lines, duplicate rows, trailing empty
#                      columns. Every row is valid.
#             errors   excel, plus a handful of invalid rows (too short,
#                      bad characters, 8.6E+14, too long)
#             fixture  the ota-emulator fixture (JSON) for the same devices
#                      and one verified firmware per product
#
# Examples:
#   samples/gen-inventory.sh 3000 2 excel > samples/fleet.csv
#   samples/gen-inventory.sh 10000000 > /tmp/inv-1e7.csv
set -eu

if [ $# -lt 1 ]; then
    sed -n '5,23p' "$0" >&2
    exit 2
fi
ROWS=$1
PRODUCTS=${2:-2}
QUIRKS=${3:-plain}
case $QUIRKS in
plain | excel | errors | fixture) ;;
*)
    echo "gen-inventory.sh: unknown QUIRKS '$QUIRKS'" >&2
    exit 2
    ;;
esac

exec awk -v rows="$ROWS" -v nprod="$PRODUCTS" -v quirks="$QUIRKS" '
function pk(p) {
    if (p == 0) return "a1BwAGVabcd"
    if (p == 1) return "a1Ko2mPq7Rt"
    return sprintf("a1Pk%07d", p)
}
# Devices come in runs of one product (a site at a time), as exported
# from an asset database sorted by site.
function prod_of(i) { return int(i / 37) % nprod }
function site_of(i) { return sites[1 + int(i / 111) % nsites] }
function name_of(i, p) {
    if (p == 0) return sprintf("meter-%s-%07d", tolower(site_of(i)), i)
    if (p == 1) return sprintf("gw_%s_%08x", site_of(i), 1048576 + i * 7)
    return sprintf("dev%d.%09d", p, i)
}
function out(s) { printf "%s%s", s, eol }
BEGIN {
    nsites = split("SH01 SH02 HZ01 BJ03 SZ07 CD02 WH01", sites, " ")
    srand(20260501)
    if (quirks == "fixture") {
        printf "{\n  \"products\": [\n"
        for (p = 0; p < nprod; p++) {
            printf "    {\"product_key\": \"%s\", \"devices\": [", pk(p)
            first = 1
            for (i = 0; i < rows; i++) {
                if (prod_of(i) != p) continue
                printf "%s\n      {\"name\": \"%s\", \"version\": \"1.0.0\"}", \
                    (first ? "" : ","), name_of(i, p)
                first = 0
            }
            printf "\n    ]}%s\n", (p + 1 < nprod ? "," : "")
        }
        printf "  ],\n  \"firmware\": [\n"
        for (p = 0; p < nprod; p++) {
            printf "    {\"id\": \"UkOZxXXnVaLfqvvv8YzC%06d\", " \
                "\"product_key\": \"%s\", \"dest_version\": \"2.0.0\", " \
                "\"src_version\": null, \"status\": 1, \"type\": 0, " \
                "\"name\": \"fw-2.0.0\"}%s\n", 100 + p, pk(p), \
                (p + 1 < nprod ? "," : "")
        }
        printf "  ]\n}\n"
        exit 0
    }
    if (quirks == "plain") {
        print "DeviceName,ProductKey"
        for (i = 0; i < rows; i++) {
            p = prod_of(i)
            print name_of(i, p) "," pk(p)
        }
        exit 0
    }
    eol = "\r\n"
    nnotes = split("replaced battery, 2024-03|customer says \"\"no signal\"\"|" \
        "pole 14, cabinet B|moved to\nbasement|fw stuck at 1.0.0\nrebooted twice, ok now", \
        notes, "|")
    printf "\357\273\277"
    out("Device Name,ProductKey,Site,Notes")
    bad = 0
    nbad = split("ab1|dev#0042|8.6E+14|meter sh01 0009|" \
        "this-device-name-is-far-too-long-for-the-platform|1.23457E+11", \
        badnames, "|")
    step = int(rows / (nbad + 1))
    if (step < 1) step = 1
    for (i = 0; i < rows; i++) {
        p = prod_of(i)
        name = name_of(i, p)
        site = site_of(i)
        r = rand()
        note = ""
        if (r < 0.06) note = "\"" notes[1 + int(rand() * nnotes)] "\""
        else if (r < 0.10) note = "ok"
        r = rand()
        if (r < 0.02) name = "  " name " "
        else if (r < 0.03) name = "\" " name "\""
        line = name "," pk(p) "," site "," note
        if (rand() < 0.05) line = line ",,"
        out(line)
        r = rand()
        if (r < 0.004) out("")
        else if (r < 0.006) out(",,,")
        if (rand() < 0.005) out(name "," pk(p) "," site ",duplicate row")
        if (quirks == "errors" && i % step == int(step / 2) && bad < nbad) {
            bad++
            out(badnames[bad] "," pk(p) "," site ",bad row")
        }
    }
    exit 0
}'
