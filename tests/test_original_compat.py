"""The original system's example worker code runs unchanged: its plugin names,
its no-parameter defaults, its inference callbacks, its logging and the
manifest leniencies it accepts."""

import numpy as np
import pytest

from sedna.algorithms.seen_task_learning.task_allocation import TaskAllocationByOrigin
from sedna.algorithms.seen_task_learning.task_definition import TaskDefinitionByOrigin
from sedna.common.class_factory import ClassFactory, ClassType
from sedna.datasources import BaseDataSource


def _paths(xs, data_type="test"):
    src = BaseDataSource(data_type=data_type)
    src.x = np.array(xs)
    return src


# ------------------------------------------------------------ task allocation
CITYSCAPES_STYLE = [
    "leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png",
    "leftImg8bit/val/frankfurt/frankfurt_000001_012345_leftImg8bit.png",
    "leftImg8bit/test/munich/munich_000002_000100_leftImg8bit.png",
    "leftImg8bit/test/berlin/berlin_000100_000019_leftImg8bit.png",
]
SIM_STYLE = ["synthia/RAND_CITYSCAPES/RGB/0000123.png", "carla/town01/frame_0042.png"]


def test_origin_allocation_without_params_maps_cityscapes_cities_to_real():
    # the original's tutorial passes {"method": "TaskAllocationByOrigin"} and no param
    alloc = TaskAllocationByOrigin({"real": 0, "sim": 1})
    _, ids = alloc(_paths(CITYSCAPES_STYLE + SIM_STYLE))
    assert list(ids) == [0, 0, 0, 0, 1, 1]


def test_origin_allocation_knows_every_cityscapes_city():
    cities = ("aachen bochum bremen cologne darmstadt dusseldorf erfurt hamburg hanover jena krefeld "
              "monchengladbach strasbourg stuttgart tubingen ulm weimar zurich frankfurt lindau munster "
              "berlin bielefeld bonn leverkusen mainz munich").split()
    xs = [f"leftImg8bit/x/{c}/{c}_000000_000001_leftImg8bit.png" for c in cities]
    _, ids = TaskAllocationByOrigin({"real": 0, "sim": 1})(_paths(xs))
    assert list(ids) == [0] * len(cities)


def test_origin_allocation_list_x_as_the_original_feeds_it():
    # the original's workers give x as [[image_path, depth_path], ...]
    src = BaseDataSource(data_type="test")
    src.x = [["data/bremen/bremen_01.png", "depth/bremen_01.png"], ["sim/a/001.png", "sim/a/001_d.png"]]
    _, ids = TaskAllocationByOrigin({"real": 0, "sim": 1})(src)
    assert list(ids) == [0, 1]


def test_origin_allocation_folder_names_still_win_and_explicit_origins_replace_the_cities():
    alloc = TaskAllocationByOrigin({"real": 0, "sim": 1})
    _, ids = alloc(_paths(["sim/aachen/img.png", "real/somewhere/img.png"]))
    assert list(ids) == [1, 0]
    # other task names: no city default, unknown stays unallocated
    _, ids = TaskAllocationByOrigin({"indoor": 0, "outdoor": 1})(_paths(["x/aachen/aachen_1.png"]))
    assert list(ids) == [-1]
    alloc = TaskAllocationByOrigin({"real": 0, "sim": 1}, origins={"real": ["garden"]})
    _, ids = alloc(_paths(["x/aachen/aachen_1.png", "x/garden/1.png"]))
    assert list(ids) == [-1, 0]


def test_origin_definition_and_allocation_agree_on_the_tutorial_layout():
    train = _paths([f"real/{c}/{c}_1.png" for c in ("bremen", "ulm")] + ["sim/s1/1.png", "sim/s2/2.png"], "train")
    tasks, extractor, _ = TaskDefinitionByOrigin()(train)
    _, ids = TaskAllocationByOrigin(extractor)(_paths(CITYSCAPES_STYLE[:1] + SIM_STYLE[:1]))
    assert [tasks[i].meta_attr for i in ids] == ["real", "sim"]


@pytest.mark.parametrize("name", ["TaskAllocationStream", "TaskAllocationBySVC", "TaskDefinitionBySVC"])
def test_original_example_plugin_names_are_registered(name):
    from sedna.core.lifelong_learning.slots import parse_slot

    assert name in ClassFactory.list(ClassType.STP)
    slot = "task_definition" if name.startswith("TaskDefinition") else "task_allocation"
    assert parse_slot(slot, {"method": name}).cls is ClassFactory.get_cls(ClassType.STP, name)


def test_task_allocation_stream_follows_the_extractor():
    # the original's TaskAllocationStream sends every sample to task 0; ours allocates
    alloc = ClassFactory.get_cls(ClassType.STP, "TaskAllocationStream")({"real": 0, "sim": 1})
    _, ids = alloc(_paths(["sim/a/1.png", "real/b/2.png"]))
    assert list(ids) == [1, 0]


def test_svc_definition_and_allocation_pair():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 0.3, (30, 3)), rng.normal(5, 0.3, (30, 3))])
    train = BaseDataSource(data_type="train")
    train.x, train.y = x, np.r_[np.zeros(30), np.ones(30)].astype(int)
    define = ClassFactory.get_cls(ClassType.STP, "TaskDefinitionBySVC")(n_class="2")
    tasks, extractor, _ = define(train)
    assert len(tasks) == 2
    _, ids = ClassFactory.get_cls(ClassType.STP, "TaskAllocationBySVC")(extractor)(train)
    ids = np.asarray(ids)
    assert len(set(ids[:30])) == 1 and len(set(ids[30:])) == 1 and ids[0] != ids[-1]
