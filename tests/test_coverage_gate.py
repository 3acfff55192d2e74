"""The coverage gate (tools/coverage_gate.py) fails on each thing it guards."""

from tools.coverage_gate import RULE_MODULES, check, rule_files


def report(files: dict[str, float], total: float = 95.0) -> dict:
    return {
        "files": {
            name: {"summary": {"percent_covered": pct}, "missing_lines": [], "missing_branches": []}
            for name, pct in files.items()
        },
        "totals": {"percent_covered": total},
    }


def test_a_rule_module_under_100_percent_fails_the_gate():
    assert check(report({"consent/chain.py": 99.5}), ["consent/chain.py"]) != []
    assert check(report({"consent/chain.py": 100.0}), ["consent/chain.py"]) == []


def test_every_rule_module_must_be_at_100_percent():
    files = rule_files()
    measured = report(dict.fromkeys(files, 100.0))

    assert check(measured, files) == []
    measured["files"][files[-1]]["summary"]["percent_covered"] = 99.9
    assert [problem.split(":")[0] for problem in check(measured, files)] == [files[-1]]


def test_a_rule_module_no_test_imports_fails_the_gate():
    assert check(report({}), ["consent/chain.py"]) != []


def test_the_whole_project_under_90_percent_fails_the_gate():
    assert check(report({}, total=89.9), []) != []


def test_the_rule_modules_exist():
    files = rule_files()

    assert {"consent/chain.py", "conversations/rules.py", "retention/selectors.py"} <= set(files)
    assert len(RULE_MODULES) >= 16
