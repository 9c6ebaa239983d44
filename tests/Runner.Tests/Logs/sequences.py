#!/usr/bin/python3
"""The hand-written list of per-control-sequence cases; writes sequences.json with xterm.js goldens.

    /usr/bin/python3 sequences.py        (needs node + `npm ci` in tests/oracle; pyte optional)

A case is a list of parts; F(...) marks the part under test, whose byte range ControlSequenceTests splits
at every inner index. Each entry of sequences.json: name, input (base64), focus ([start, end) byte ranges),
golden (xterm.js), and pyte (pyte's text, only where it disagrees with xterm.js; README lists those).
Cases stay out of the SPEC's exception classes: none over 32 KiB, only valid UTF-8, and no CSI 2J/3J or CSI S/M over lines that ended with a line feed (rows that
a case erases or scrolls away were drawn by cursor addressing, never ended by \\n).
"""
import base64
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "..", "oracle")


class F(str):
    """The part of a case under test."""


E = "\x1b"
CSI = E + "["
# Rows drawn by cursor addressing only: no line feed has stored them.
GRID = f"{CSI}1;1Hrow one{CSI}2;1Hrow two{CSI}3;1Hrow three{CSI}4;1Hrow four"
LINES = "line1\r\nline2\r\nline3"

CASES = {
    "autowrap_joins_rows_into_one_logical_line": ["x" * 195, F("abcdefghij"), "\r\n"],
    "autowrap_three_rows": [F("0123456789" * 45), "\r\nnext\r\n"],
    "autowrap_exactly_200_columns_then_crlf": ["y" * 199, F("Y"), "\r\nnext\r\n"],
    "autowrap_wide_char_at_the_last_column": ["z" * 199, F("世"), "界\r\n"],
    "cr_overwrites_from_column_0": ["hello world", F("\r"), "HE\r\n"],
    "lf_moves_down_keeping_the_column": ["abc", F("\n"), "def\r\n"],
    "bs_moves_left": ["abcd", F("\b\b"), "XY\r\n"],
    "bs_at_column_0_stays": [F("\b"), "a\r\n"],
    "tab_over_blank_cells": ["a", F("\t"), "b\r\n"],
    "tab_over_text_moves_only": ["abcdefghijkl\r", F("\t"), "X\r\n"],
    "tab_at_the_end_stops_at_the_last_column": ["x" * 195, F("\t\t"), "Y\r\n"],
    "cht_forward_tabs": ["a", F(CSI + "2I"), "b\r\n"],
    "cbt_back_tab": ["abcdefghijklmnopq", F(CSI + "Z"), "X\r\n"],
    "hts_sets_a_tab_stop": [CSI + "4G", F(E + "H"), "\r\tX\r\n"],
    "tbc_clears_the_tab_stop_here": [CSI + "9G", F(CSI + "g"), "\r\tX\r\n"],
    "tbc_3_clears_all_tab_stops": [F(CSI + "3g"), "a\tX\r\n"],
    "cuu_moves_up": [LINES, F(CSI + "2A"), "X\r\n\r\n\r\n"],
    "cuu_stops_at_the_top": ["ab", F(CSI + "9A"), "X\r\n"],
    "cud_moves_down": ["a", F(CSI + "3B"), "b\r\n"],
    "cuf_moves_right": ["a", F(CSI + "5C"), "b\r\n"],
    "cuf_stops_at_the_last_column": ["a", F(CSI + "999C"), "b\r\n"],
    "cub_moves_left": ["abcdef", F(CSI + "3D"), "X\r\n"],
    "cnl_next_line": ["abc", F(CSI + "2E"), "X\r\n"],
    "cpl_previous_line": [LINES, F(CSI + "F"), "X\r\n\r\n"],
    "cha_column_absolute": ["abcdef", F(CSI + "3G"), "X\r\n"],
    "cup_position": [LINES, F(CSI + "2;3H"), "X", CSI + "4;1H"],
    "hvp_position": [LINES, F(CSI + "1;2f"), "X", CSI + "4;1H"],
    "cup_default_is_home": [LINES, F(CSI + "H"), "X", CSI + "4;1H"],
    "vpa_row_absolute": [LINES, F(CSI + "2d"), "X", CSI + "4;1H"],
    "ri_reverse_index_moves_up": [LINES, F(E + "M"), "X\r\n\r\n"],
    "ri_at_the_top_scrolls_down": [GRID, CSI + "H", F(E + "M"), "new top", CSI + "6;1H"],
    "ind_index_moves_down": ["abc", F(E + "D"), "X\r\n"],
    "nel_next_line": ["abc", F(E + "E"), "X\r\n"],
    "decsc_decrc_save_and_restore": ["abc", F(E + "7"), "\r\ndef", F(E + "8"), "X\r\n\r\n"],
    "scosc_scorc_save_and_restore": ["abc", F(CSI + "s"), "\r\ndef", F(CSI + "u"), "X\r\n\r\n"],
    "decstbm_region_from_row_1_scrolls_into_scrollback": [F(CSI + "1;5r"), "".join(f"r{i}\r\n" for i in range(12)), CSI + "r", CSI + "6;1Hend\r\n"],
    "decstbm_region_lower_down_drops_what_scrolls_out": ["header\r\n", F(CSI + "3;6r"), CSI + "3;1H", "".join(f"r{i}\r\n" for i in range(9)), F(CSI + "r"), CSI + "7;1Hfooter\r\n"],
    "decstbm_bottom_row_bar": ["log 1\r\n", F(E + "7" + CSI + "1;49r" + E + "8"), "log 2\r\n", E + "7" + CSI + "50;1Hbar 50%" + E + "8", "log 3\r\n", E + "7" + CSI + "1;50r" + CSI + "50;1H" + CSI + "2K" + E + "8"],
    "ed_0_erases_below": [GRID, CSI + "2;4H", F(CSI + "J"), CSI + "6;1H"],
    "ed_1_erases_above": [GRID, CSI + "2;4H", F(CSI + "1J"), CSI + "6;1H"],
    "ed_2_erases_the_screen": ["unfinished", GRID, F(CSI + "2J"), CSI + "2;1Hafter", CSI + "3;1H"],
    "el_0_erases_to_the_end": ["abcdef", CSI + "3D", F(CSI + "K"), "\r\n"],
    "el_1_erases_to_the_cursor": ["abcdef", CSI + "3D", F(CSI + "1K"), "\r\n"],
    "el_2_erases_the_line": ["abcdef", F(CSI + "2K"), "X\r\n"],
    "ech_erases_characters": ["abcdef", CSI + "5D", F(CSI + "2X"), "\r\n"],
    "ich_inserts_blanks": ["abcdef", CSI + "4D", F(CSI + "3@"), "XYZ\r\n"],
    "dch_deletes_characters": ["abcdef", CSI + "5D", F(CSI + "2P"), "\r\n"],
    "il_inserts_lines": [GRID, CSI + "2;1H", F(CSI + "2L"), "inserted", CSI + "7;1H"],
    "dl_deletes_lines": [GRID, CSI + "2;1H", F(CSI + "M"), CSI + "5;1H"],
    "su_scrolls_up_within_a_lower_region": [CSI + "47;1Ha", CSI + "48;1Hb", CSI + "49;1Hc", F(CSI + "47;50r" + CSI + "S"), CSI + "r", CSI + "50;1H"],
    "sd_scrolls_down": [GRID, F(CSI + "2T"), CSI + "7;1H"],
    "rep_repeats_the_last_character": ["ab", F(CSI + "5b"), "\r\n"],
    "alt_screen_1049_is_not_in_the_log": ["before\r\n", F(CSI + "?1049h"), "full screen\r\n", CSI + "H" + "frame", F(CSI + "?1049l"), "after\r\n"],
    "alt_screen_47": ["before\r\n", F(CSI + "?47h"), "alt text", F(CSI + "?47l"), "after\r\n"],
    "alt_screen_1047": ["before\r\n", F(CSI + "?1047h"), "alt text", F(CSI + "?1047l"), "\r\nafter\r\n"],
    "origin_mode_addresses_the_region": [CSI + "5;10r", F(CSI + "?6h"), CSI + "1;1HX", F(CSI + "?6l"), CSI + "r", CSI + "11;1H"],
    "autowrap_off_overwrites_the_last_column": [F(CSI + "?7l"), "x" * 205, F(CSI + "?7h"), "\r\nok\r\n"],
    "wide_cjk": ["a", F("日本語"), "b\r\n"],
    "wide_overwritten_by_narrow": ["日本語", CSI + "6D", F("X"), "\r\n"],
    "emoji": [F("😀"), " ok ", F("🚀"), "\r\n"],
    "combining_marks": ["cafe", F("\u0301"), " n", F("\u0303"), "o\r\n"],
    "dec_special_graphics": [F(E + "(0"), "lqqk", F(E + "(B"), " x\r\n"],
    "osc_bel_terminated": [F(E + "]0;window title\x07"), "text\r\n"],
    "osc_st_terminated_hyperlink": [F(E + "]8;;https://example.com/\x1b\\"), "link", F(E + "]8;;" + E + "\\"), "\r\n"],
    "dcs_is_removed": ["a", F(E + "Pq#0;2;0;0;0#0~~@@vv\x1b\\"), "b\r\n"],
    "sgr_is_removed": [F(CSI + "1;31m"), "red", F(CSI + "38;2;10;20;30m"), "rgb", F(CSI + "38:5:196m"), "x", F(CSI + "0m"), "\r\n"],
    "private_modes_are_removed": [F(CSI + "?25l"), "a", F(CSI + "?2004h"), "b", F(CSI + ">4;1m"), "\r\n"],
    "scroll_of_more_than_50_lines": ["".join(f"line {i}\r\n" for i in range(80)), "tail", F(CSI + "3A"), "X\r\n\r\n\r\n"],
    "c0_bel_is_invisible": ["a", F("\x07"), "b\r\n"],
    "cr_redraw_of_a_line_wider_than_the_screen": ["e" * 250, F("\r"), "E" * 250, F("\r"), "f" * 250, "\r\n"],
    "decstr_soft_reset_keeps_the_cursor": ["a\r\nb", F(CSI + "!p"), "X\r\n"],
    "decstr_resets_modes_and_region": [CSI + "5;10r" + CSI + "?7l" + CSI + "4h", "a\r\nb", F(CSI + "!p"), "X" + "y" * 205, "\r\n"],
    "decaln_fills_the_screen_with_e": [CSI + "2;1Hdrawn", F(E + "#8"), CSI + "3;1Hthird", CSI + "50;1H\r\n"],
    "uk_character_set_g0": [F(E + "(A"), "#1 costs #2", F(E + "(B"), " #3\r\n"],
    "uk_character_set_g1_shifted": [F(E + ")A"), "a#", F("\x0e"), "b#", F("\x0f"), "c#\r\n"],
    "reverse_wraparound_backspace_into_the_row_above": [F(CSI + "?45h"), "x" * 200 + "ab", F("\b\b\b"), "Z", F(CSI + "?45l"), "\r\n"],
    "reverse_wraparound_off_stops_at_column_0": ["x" * 200 + "ab", F("\b\b\b"), "Z\r\n"],
}

# What the storing rule stores where it differs from the screen's final text: plain lines written before the program
# first redraws are stored as their \n arrives (nothing tells them from log lines then), so a line the case changes
# afterwards is in the log twice, as written and as changed (docs/architecture.md, exceptions). With the cursor hidden
# every case is stored as the golden (ControlSequenceTests.HiddenCursor_ChangesNoGolden).
STORED = {
    "cuu_moves_up": "line1\nline2\nline1X\nline3\n",
    "cpl_previous_line": "line1\nline2\nXine2\nline3\n",
    "cup_position": "line1\nline2\nliXe2\nline3\n",
    "hvp_position": "line1\nline2\nlXne1\nline3\n",
    "cup_default_is_home": "line1\nline2\nXine1\nline3\n",
    "vpa_row_absolute": "line1\nline2\nline2X\nline3\n",
    "ri_reverse_index_moves_up": "line1\nline2\nline2X\nline3\n",
    "decsc_decrc_save_and_restore": "abc\nabcX\ndef\n",
    "scosc_scorc_save_and_restore": "abc\nabcX\ndef\n",
    "scroll_of_more_than_50_lines": "".join(f"line {i}\n" for i in range(80)) + "lineX77\ntail\n",
}


def encode(parts):
    data, focus = b"", []
    for part in parts:
        raw = part.encode("utf-8")
        if isinstance(part, F):
            focus.append([len(data), len(data) + len(raw)])
        data += raw
    return data, focus


def main():
    names = list(CASES)
    inputs = [encode(CASES[n]) for n in names]
    b64 = [base64.b64encode(d).decode() for d, _ in inputs]
    node = subprocess.run(["node", os.path.join(ORACLE, "render.mjs"), "--batch"], input=json.dumps(b64).encode(),
                          capture_output=True, check=True)
    goldens = json.loads(node.stdout)
    try:
        sys.path.insert(0, ORACLE)
        import render_pyte
        pyte = [render_pyte.render(d) for d, _ in inputs]
    except ImportError:
        print("pyte is not installed: no pyte column", file=sys.stderr)
        pyte = goldens
    entries = []
    for name, (data, focus), golden, other in zip(names, inputs, goldens, pyte):
        entry = {"name": name, "input": base64.b64encode(data).decode(), "focus": focus, "golden": golden}
        if STORED.get(name) is not None:
            entry["stored"] = STORED[name]
        if other != golden:
            entry["pyte"] = other
            print(f"pyte disagrees: {name}", file=sys.stderr)
        entries.append(entry)
    with open(os.path.join(HERE, "sequences.json"), "w", encoding="utf-8") as f:
        json.dump(entries, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{len(entries)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
