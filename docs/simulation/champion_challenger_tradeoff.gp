# Trade-off plot of docs/simulation.md ("At matched error rates"): mean time to a
# correct decision against users on the worse model before the decision, per
# contender, from two bandit-sim summary.csv files (columns 18, 19 and 3).
# usage: gnuplot -e "nominal='A/summary.csv'; matched='B/summary.csv'; out='X.png'" tradeoff.gp
set terminal pngcairo size 900,600 font ",10" noenhanced
set output out
set datafile separator ','
set logscale xy
set xlabel 'mean time to a correct decision (requests)'
set ylabel 'users on the worse model before the decision'
set title 'champion 5.0% vs challenger 5.5%: nominal alpha = 0.05 vs matched A/A error rates'
set key top left
set grid
set xrange [10000:1500000]
set yrange [2000:400000]
# Matched points are labelled with their power (share of runs that named the
# challenger, column 21): the time to a correct decision averages only those runs.
lbl(n, p) = sprintf("%s (power %.0f%%)", n, 100 * p)
# Labelled on the left of their point, where the right side is taken.
is_ab_msprt(n) = n eq 'ab_90_10_msprt' || n eq 'thompson_cs'
is_ab(n) = n[1:3] eq 'ab_'
plot nominal every ::1 using 18:19 with points pt 6 ps 1.6 lc rgb '#888888' title 'nominal alpha = 0.05', \
     matched every ::1 using 18:19 with points pt 7 ps 1.6 lc rgb '#1f77b4' title 'matched A/A error rates (5%)', \
     matched every ::1 using (is_ab_msprt(strcol(3)) ? NaN : $18):19:(lbl(strcol(3), $21)) \
       with labels left offset 1.2,0.3 font ",9" notitle, \
     matched every ::1 using (is_ab_msprt(strcol(3)) ? $18 : NaN):19:(lbl(strcol(3), $21)) \
       with labels right offset -1.2,-0.3 font ",9" notitle, \
     nominal every ::1 using (is_ab(strcol(3)) ? NaN : $18):19:3 \
       with labels left offset 1.2,-1.0 font ",8" tc rgb '#888888' notitle
