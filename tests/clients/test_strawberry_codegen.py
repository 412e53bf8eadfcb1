"""Strawberry's codegen for Python consumers, on the frontend's real read operations.

Only the reads are covered: on Strawberry 0.341 the Python plugin stops at the
`JSON` scalar ("Scalar type must have a python type"), which every mutation
input of ours carries, and it takes one operation per document. The mutations
are proved with GraphQL Code Generator in clients/ instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse, print_ast
from strawberry.codegen import QueryCodegen
from strawberry.codegen.plugins.python import PythonPlugin

from schema import create_schema

OPERATIONS = Path(__file__).parents[2] / "clients" / "operations" / "progress.graphql"


def single_operations(path: Path) -> dict[str, str]:
    document = parse(path.read_text(encoding="utf-8"))
    return {
        definition.name.value: print_ast(definition)
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None
    }


@pytest.mark.parametrize("name", sorted(single_operations(OPERATIONS)))
def test_python_types_are_generated_for_each_read(name: str) -> None:
    # given one of the frontend's reads / when Strawberry generates Python for it
    operation = single_operations(OPERATIONS)[name]
    result = QueryCodegen(create_schema(), plugins=[PythonPlugin(Path(f"{name}.py"))]).run(
        operation
    )
    (generated,) = result.files
    # then the module runs and types the result as the schema does
    namespace: dict[str, Any] = {}
    code = compile(generated.content, generated.path, "exec", dont_inherit=True)
    exec(code, namespace)  # noqa: S102 - our codegen's output
    progress = namespace[f"{name}ResultOnboardingProgress"]
    assert progress.__annotations__["current_step"] is int
    assert progress.__annotations__["completion_percentage"] is float
    if name == "LegacyOnboardingProgress":
        assert namespace[f"{name}Variables"].__annotations__["sessionId"] == str | None
