"""Lifelong-learning measures against matrices worked out by hand."""

import math

import pytest

from sedna.core.lifelong_learning.measures import all_measures, bwt, forgetting, fwt, ianvs_bwt, ianvs_fwt


def test_gem_forms_one_task_per_round():
    # rounds x tasks; task j learned in round j
    R = [[0.8, 0.1, 0.2],
         [0.7, 0.9, 0.3],
         [0.6, 0.8, 0.9]]
    learned = [0, 1, 2]
    base = [0.1, 0.1, 0.1]
    # BWT = ((0.6-0.8) + (0.8-0.9)) / 2 = -0.15
    assert bwt(R, learned) == pytest.approx(-0.15)
    # FWT = ((R[0][1]-b1) + (R[1][2]-b2)) / 2 = (0.0 + 0.2) / 2 = 0.1
    assert fwt(R, learned, base) == pytest.approx(0.1)
    # forgetting: task0 max(0.8,0.7)-0.6 = 0.2; task1 max(0.9)-0.8 = 0.1 -> 0.15
    assert forgetting(R, learned) == pytest.approx(0.15)


def test_rounds_that_learn_several_tasks():
    # round 0 learns tasks 0,1; round 1 learns task 2 (the robot's held-out scene)
    R = [[0.70, 0.60, 0.10],
         [0.70, 0.59, 0.65]]
    learned = [0, 0, 1]
    base = [0.05, 0.05, 0.04]
    assert bwt(R, learned) == pytest.approx(((0.70 - 0.70) + (0.59 - 0.60)) / 2)
    assert fwt(R, learned, base) == pytest.approx(0.10 - 0.04)
    assert forgetting(R, learned) == pytest.approx(0.005)


def test_ianvs_form():
    # M[0] = before any round, then one row per round; 2 tasks
    M = [[0.1, 0.1],
         [0.8, 0.2],
         [0.7, 0.9]]
    # BWT = mean of (0.8-0.1, 0.2-0.1, 0.7-0.8, 0.9-0.2) = (0.7+0.1-0.1+0.7)/4 = 0.35
    assert ianvs_bwt(M) == pytest.approx(0.35)
    # FWT = mean of (M[0][0]-M[0][0], M[1][1]-M[0][1]) = (0 + 0.1)/2 = 0.05
    assert ianvs_fwt(M) == pytest.approx(0.05)
    assert math.isnan(ianvs_bwt([[0.1, 0.2]]))


def test_all_measures_and_single_round_is_nan():
    out = all_measures([[0.5, 0.6]], [0, 0], [0.1, 0.1])
    assert math.isnan(out["BWT"]) and math.isnan(out["FWT"]) and math.isnan(out["forgetting"])
    out = all_measures([[0.7, 0.6, 0.1], [0.7, 0.59, 0.65]], [0, 0, 1], [0.05, 0.05, 0.04])
    assert set(out) == {"BWT", "FWT", "forgetting", "BWT_ianvs", "FWT_ianvs"}
