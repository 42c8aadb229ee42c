"""The typed plugin registry: registration rules, built-in overrides, lookup errors, listing.

Every test restores the registry to the state it found (``registry`` fixture),
and names its own plugins uniquely, so tests do not leak into each other.
"""

import copy

import numpy as np
import pytest

from sedna.algorithms.seen_task_learning.task_definition import BaseTaskDefinition
from sedna.algorithms.seen_task_learning.task_definition import TaskDefinitionByOrigin as BuiltinByOrigin
from sedna.common.class_factory import ClassFactory, ClassType
from sedna.common.exceptions import DuplicateRegistrationError, UnknownPluginError


def _qn(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


@pytest.fixture
def registry():
    """Snapshot the registry (built-ins loaded) and put it back afterwards."""
    ClassFactory.list()  # make sure the built-ins are in before the snapshot
    saved_registry = copy.deepcopy(ClassFactory.__registry__)
    saved_builtin = copy.deepcopy(ClassFactory._builtin)
    yield ClassFactory
    ClassFactory.__registry__.clear()
    ClassFactory.__registry__.update(saved_registry)
    ClassFactory._builtin.clear()
    ClassFactory._builtin.update(saved_builtin)


# ------------------------------------------------------------------ duplicates
def test_a_different_class_under_a_taken_name_is_refused_naming_both(registry):
    @ClassFactory.register(ClassType.GENERAL, alias="cf_dup_taken")
    class FirstPlugin:
        pass

    class SecondPlugin:
        pass

    with pytest.raises(DuplicateRegistrationError) as err:
        ClassFactory.register(ClassType.GENERAL, alias="cf_dup_taken")(SecondPlugin)
    msg = str(err.value)
    assert _qn(FirstPlugin) in msg and _qn(SecondPlugin) in msg
    assert "cf_dup_taken" in msg
    assert isinstance(err.value, ValueError)  # what callers of the original library caught
    # the first registration is untouched
    assert ClassFactory.get_cls(ClassType.GENERAL, "cf_dup_taken") is FirstPlugin


def test_force_replaces_a_taken_name(registry):
    class OldPlugin:
        pass

    class NewPlugin:
        pass

    ClassFactory.register_cls(OldPlugin, ClassType.GENERAL, alias="cf_force")
    ClassFactory.register_cls(NewPlugin, ClassType.GENERAL, alias="cf_force", force=True)
    assert ClassFactory.get_cls(ClassType.GENERAL, "cf_force") is NewPlugin


def test_registering_the_same_class_twice_is_fine(registry):
    class Twice:
        pass

    returned = ClassFactory.register(ClassType.GENERAL, alias="cf_twice")(Twice)
    assert returned is Twice  # the decorator hands the class back unchanged
    ClassFactory.register(ClassType.GENERAL, alias="cf_twice")(Twice)
    assert ClassFactory.get_cls(ClassType.GENERAL, "cf_twice") is Twice
    assert ClassFactory.list(ClassType.GENERAL, pattern="cf_twice") == ["cf_twice"]


def test_the_same_name_under_another_type_is_independent(registry):
    class InGeneral:
        pass

    class InCallback:
        pass

    ClassFactory.register_cls(InGeneral, ClassType.GENERAL, alias="cf_two_types")
    ClassFactory.register_cls(InCallback, ClassType.CALLBACK, alias="cf_two_types")
    assert ClassFactory.get_cls(ClassType.GENERAL, "cf_two_types") is InGeneral
    assert ClassFactory.get_cls(ClassType.CALLBACK, "cf_two_types") is InCallback


def test_default_name_is_the_class_name(registry):
    @ClassFactory.register(ClassType.GENERAL)
    class CfNamedByItself:
        pass

    assert ClassFactory.is_exists(ClassType.GENERAL, "CfNamedByItself")
    assert ClassFactory.get_cls(ClassType.GENERAL, "CfNamedByItself") is CfNamedByItself


# -------------------------------------------------------------------- built-ins
def test_a_user_class_under_a_built_in_name_replaces_it(registry):
    assert ClassFactory.get_cls(ClassType.STP, "TaskDefinitionByOrigin") is BuiltinByOrigin
    assert ClassFactory.is_builtin(ClassType.STP, "TaskDefinitionByOrigin")

    # the tutorial pastes its own TaskDefinitionByOrigin into the worker script
    @ClassFactory.register(ClassType.STP)
    class TaskDefinitionByOrigin(BaseTaskDefinition):  # noqa: F811 - the point of the test
        def __call__(self, samples, **kwargs):
            raise NotImplementedError

    user_cls = TaskDefinitionByOrigin
    assert user_cls is not BuiltinByOrigin
    assert ClassFactory.get_cls(ClassType.STP, "TaskDefinitionByOrigin") is user_cls
    assert not ClassFactory.is_builtin(ClassType.STP, "TaskDefinitionByOrigin")

    # and the job resolves the slot to the user's class
    from sedna.core.lifelong_learning import LifelongLearning
    from sklearn.linear_model import LogisticRegression

    ll = LifelongLearning(LogisticRegression(), task_definition={"method": "TaskDefinitionByOrigin"})
    assert ll.slots["task_definition"].cls is user_cls

    # once the user's class owns the name, a second different class is a real conflict
    class Another(BaseTaskDefinition):
        pass

    with pytest.raises(DuplicateRegistrationError):
        ClassFactory.register_cls(Another, ClassType.STP, alias="TaskDefinitionByOrigin")


def test_no_test_leaves_the_built_in_replaced():
    # in file order this runs after the override test: the fixture put the built-in back
    assert ClassFactory.get_cls(ClassType.STP, "TaskDefinitionByOrigin") is BuiltinByOrigin
    assert ClassFactory.is_builtin(ClassType.STP, "TaskDefinitionByOrigin")


def test_unregister_then_lookup_fails_and_re_register_works(registry):
    ClassFactory.unregister(ClassType.STP, "TaskAllocationByOrigin")
    assert not ClassFactory.is_exists(ClassType.STP, "TaskAllocationByOrigin")
    with pytest.raises(UnknownPluginError):
        ClassFactory.get_cls(ClassType.STP, "TaskAllocationByOrigin")
    from sedna.algorithms.seen_task_learning.task_allocation import TaskAllocationByOrigin

    ClassFactory.register_cls(TaskAllocationByOrigin, ClassType.STP, alias="TaskAllocationByOrigin")
    assert ClassFactory.get_cls(ClassType.STP, "TaskAllocationByOrigin") is TaskAllocationByOrigin


# ------------------------------------------------------------------ unknown name
def test_unknown_name_lists_the_registered_names_of_that_type(registry):
    class CfListedPlugin:
        pass

    ClassFactory.register_cls(CfListedPlugin, ClassType.UTP, alias="cf_listed_plugin")
    with pytest.raises(UnknownPluginError) as err:
        ClassFactory.get_cls(ClassType.UTP, "NoSuchAllocation")
    e = err.value
    assert isinstance(e, ValueError) and isinstance(e, KeyError)
    msg = str(e)
    assert "NoSuchAllocation" in msg and "unseen-task allocation" in msg
    assert ClassType.UTP not in msg  # the kind in words, not the registry's internal type name
    for name in ClassFactory.list(ClassType.UTP):
        assert name in msg
    assert "UnseenTaskAllocationDefault" in msg and "cf_listed_plugin" in msg
    # only names of that type: no STP plugin is offered for a UTP lookup
    assert "TaskDefinitionByDataAttr" not in msg
    assert not msg.startswith("'")  # a readable message, not KeyError's quoted repr


def test_a_near_miss_gets_the_name_meant_and_a_far_one_no_guess(registry):
    with pytest.raises(UnknownPluginError, match="did you mean 'UpdateStrategyDefault'"):
        ClassFactory.get_cls(ClassType.KM, "UpdateStrategyDefualt")
    with pytest.raises(UnknownPluginError, match="did you mean 'UpdateStrategyByFinetune'"):
        ClassFactory.get_cls(ClassType.KM, "updatestrategybyfinetune")
    with pytest.raises(UnknownPluginError) as err:
        ClassFactory.get_cls(ClassType.KM, "UpdateStrategyByMagic")
    assert "did you mean" not in str(err.value)


def test_the_registry_does_not_import_the_algorithms_package():
    """common sits below algorithms: the built-ins register themselves when
    sedna.algorithms is imported; a fresh interpreter importing only the
    registry has none and has not imported the algorithms."""
    import subprocess
    import sys

    code = ("import sys; from sedna.common.class_factory import ClassFactory, ClassType; "
            "assert ClassFactory.list(ClassType.STP) == [], ClassFactory.list(); "
            "assert 'sedna.algorithms' not in sys.modules; "
            "import sedna.algorithms; assert 'TaskDefinitionByDataAttr' in ClassFactory.list(ClassType.STP)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_a_user_class_registered_before_the_built_ins_keeps_its_name(registry):
    class CfEarlyUserDefinition(BaseTaskDefinition):
        pass

    ClassFactory.unregister(ClassType.STP, "TaskDefinitionByOrigin")
    ClassFactory.register_cls(CfEarlyUserDefinition, ClassType.STP, alias="TaskDefinitionByOrigin")
    ClassFactory.register_builtins([(ClassType.STP, "TaskDefinitionByOrigin", BuiltinByOrigin)])
    assert ClassFactory.get_cls(ClassType.STP, "TaskDefinitionByOrigin") is CfEarlyUserDefinition
    assert not ClassFactory.is_builtin(ClassType.STP, "TaskDefinitionByOrigin")


def test_unknown_name_of_an_empty_type_says_none_are_registered(registry):
    with pytest.raises(UnknownPluginError, match="no_such_type_cf.*registered: none"):
        ClassFactory.get_cls("no_such_type_cf", "anything")


def test_unknown_plugin_error_is_caught_as_key_error(registry):
    try:
        ClassFactory.get_cls(ClassType.KM, "UpdateStrategyNope")
    except KeyError as e:  # how code written for a dict lookup would handle it
        assert "UpdateStrategyDefault" in str(e)
    else:
        pytest.fail("no error for an unknown plugin")


# ------------------------------------------------------------------------ list
def test_list_all_types_one_type_and_a_pattern(registry):
    everything = ClassFactory.list()
    assert isinstance(everything, dict)
    for t in (ClassType.STP, ClassType.KM, ClassType.UTD, ClassType.UTP):
        assert t in everything
        assert everything[t] == sorted(everything[t])
    stp = ClassFactory.list(ClassType.STP)
    assert stp == everything[ClassType.STP]
    assert {"TaskDefinitionByDataAttr", "TaskDefinitionByOrigin", "TaskAllocationByOrigin",
            "DefaultTaskRemodeling"} <= set(stp)
    assert ClassFactory.list(ClassType.STP, pattern="*Origin*") == ["TaskAllocationByOrigin", "TaskDefinitionByOrigin"]
    assert ClassFactory.list(ClassType.STP, pattern="*origin*") == []  # shell-style, case-sensitive
    assert ClassFactory.list("no_such_type_cf") == []


def test_list_sees_new_registrations(registry):
    class CfFreshOrigin:
        pass

    ClassFactory.register_cls(CfFreshOrigin, ClassType.STP, alias="CfFreshOriginPlugin")
    assert "CfFreshOriginPlugin" in ClassFactory.list(ClassType.STP, pattern="*Origin*")
    assert "CfFreshOriginPlugin" in ClassFactory.list()[ClassType.STP]


# -------------------------------------------------------------------- callbacks
def test_a_registered_callback_function_serves_as_a_data_source_func(registry, tmp_path):
    from sedna.datasources import TxtDataParse

    @ClassFactory.register(ClassType.CALLBACK, alias="cf_split_last")
    def cf_split_last(line):
        parts = line.split()
        return parts[:-1], parts[-1]

    assert ClassFactory.get_cls(ClassType.CALLBACK, "cf_split_last") is cf_split_last
    index = tmp_path / "index.txt"
    index.write_text("a/1.png a/1d.png a/1l.png\nb/2.png b/2d.png b/2l.png\n")
    data = TxtDataParse(data_type="train", func="cf_split_last")
    data.parse(str(index))
    assert data.num_examples() == 2
    assert [list(x) for x in data.x] == [["a/1.png", "a/1d.png"], ["b/2.png", "b/2d.png"]]
    assert list(data.y) == ["a/1l.png", "b/2l.png"]


def test_an_unknown_callback_name_lists_the_callbacks(registry):
    from sedna.datasources import TxtDataParse

    def cf_known_callback(line):
        return line

    ClassFactory.register_cls(cf_known_callback, ClassType.CALLBACK)
    with pytest.raises(UnknownPluginError) as err:
        TxtDataParse(data_type="train", func="cf_not_registered").parse(__file__)
    assert "cf_known_callback" in str(err.value)


def test_register_from_package_registers_public_classes_and_functions(registry):
    import types

    mod = types.ModuleType("cf_fake_plugins")

    class CfPubClass:
        pass

    def cf_pub_func():
        return np.zeros(1)

    def _cf_private():
        pass

    mod.CfPubClass, mod.cf_pub_func, mod._cf_private = CfPubClass, cf_pub_func, _cf_private
    mod.CONSTANT = 3
    ClassFactory.register_from_package(mod, ClassType.GENERAL)
    assert ClassFactory.get_cls(ClassType.GENERAL, "CfPubClass") is CfPubClass
    assert ClassFactory.get_cls(ClassType.GENERAL, "cf_pub_func") is cf_pub_func
    assert not ClassFactory.is_exists(ClassType.GENERAL, "_cf_private")
    assert not ClassFactory.is_exists(ClassType.GENERAL, "CONSTANT")
