#!/bin/bash
# A script that calls `clear` (CSI H, CSI 2J, CSI 3J) between its phases, each phase's lines written over time.
for i in $(seq 1 60); do echo "build step $i of 60"; [ $((i % 10)) -eq 0 ] && sleep 0.05; done
clear
for i in $(seq 1 20); do echo "test $i passed"; [ $((i % 5)) -eq 0 ] && sleep 0.05; done
clear
echo "summary: 60 steps built, 20 tests passed"
