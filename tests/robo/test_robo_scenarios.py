"""benchmarks/scenarios.py: the random scenario family of issue 18 is a pure function of its index."""

import numpy as np
import pytest
from support.modules import load_benchmark


@pytest.fixture(scope="module")
def scenarios():
    return load_benchmark("scenarios")


def _plain(sc):
    return [(p.domain, p.base, p.groups, repr(sorted(p.style.items()))) for p in sc.places]


def test_same_index_same_scenario(scenarios):
    assert _plain(scenarios.draw_scenario(3)) == _plain(scenarios.draw_scenario(3))
    assert _plain(scenarios.draw_scenario(3)) != _plain(scenarios.draw_scenario(4))


def test_shape_of_every_development_scenario(scenarios):
    for i in scenarios.DEVELOPMENT:
        sc = scenarios.draw_scenario(i)
        assert len(sc.initial) == scenarios.N_INITIAL and len(sc.rounds) == scenarios.N_ROUNDS
        assert all(1 <= len(r) <= 4 for r in sc.rounds)
        assert all(p.groups for p in sc.places)
        assert len({p.domain for p in sc.places}) == len(sc.places)


def test_reported_half_refused_without_the_flag(scenarios):
    with pytest.raises(ValueError, match="REPORTED"):
        scenarios.check_reported([0, 8], reported=False)
    scenarios.check_reported(scenarios.parse_indices("0-7"), reported=False)
    assert scenarios.parse_indices("0-2,9") == [0, 1, 2, 9]


def test_rendering_is_deterministic_and_leaves_the_generator_as_it_was(scenarios):
    from sedna.examples.robo import datagen

    before = set(datagen._STYLES)
    place = scenarios.draw_scenario(5).places[-1]
    with scenarios.registered([place]):
        a = datagen.render_frame(place.domain, 2, (32, 64))
        b = datagen.render_frame(place.domain, 2, (32, 64))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert set(datagen._STYLES) == before
