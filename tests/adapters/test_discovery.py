"""Adapters are found by entry point, built-ins included, and the contract suite is a plugin."""

from importlib.metadata import entry_points

import httpx
import pytest
from pydantic import ValidationError

from adapters.base import Adapter, UnknownAdapter, available_adapters, load_adapter_class
from adapters.datacert import DatacertAdapter, DatacertOptions
from adapters.elicence import ElicenceAdapter, ElicenceOptions


def test_both_built_in_adapters_are_registered_by_entry_point() -> None:
    assert {"elicence", "datacert"} <= set(available_adapters())
    assert load_adapter_class("elicence") is ElicenceAdapter
    assert load_adapter_class("datacert") is DatacertAdapter


def test_unknown_adapter_names_the_installed_ones() -> None:
    with pytest.raises(UnknownAdapter, match=r"'elicense'.*datacert, elicence"):
        load_adapter_class("elicense")


@pytest.mark.parametrize(
    ("name", "options", "kind"),
    [("elicence", ElicenceOptions, "e_licence"), ("datacert", DatacertOptions, "data_certificate")],
)
def test_built_in_adapter_satisfies_the_protocol(name: str, options: type, kind: str) -> None:
    cls = load_adapter_class(name)
    adapter = cls("zs", {"base_url": "https://registry.test"}, httpx.AsyncClient())

    assert isinstance(adapter, Adapter)
    assert cls.options_model is options
    assert cls.options_model(base_url="https://registry.test").kind == name
    assert cls.kind == kind


def test_misspelt_option_fails_with_its_name() -> None:
    with pytest.raises(ValidationError, match="timout_s"):
        ElicenceOptions(base_url="https://registry.test", timout_s=1)  # type: ignore[call-arg]


def test_contract_suite_is_registered_as_a_pytest_plugin() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("matcher_adapter_contract") == "adapters.testing"
