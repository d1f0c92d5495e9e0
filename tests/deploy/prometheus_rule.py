"""deploy/k8s/components/prometheus-operator/prometheus-rule.yaml is deploy/prometheus/rules
wrapped in a PrometheusRule, text for text (kustomize cannot embed a file as structured data):
the rule files stay the only place a rule is written. After changing a rule, regenerate with
    python3 -m uv run python -m tests.deploy.prometheus_rule
and tests/deploy/test_alert_rules.py fails while the two differ."""

from __future__ import annotations

import re
import textwrap

from tests.deploy.catalogue import DEPLOY

RULE_FILES = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
PROMETHEUS_RULE = DEPLOY / "k8s" / "components" / "prometheus-operator" / "prometheus-rule.yaml"

HEADER = """\
# Generated from deploy/prometheus/rules by tests/deploy/prometheus_rule.py: do not edit, change
# the rule files and regenerate. The Prometheus Operator loads it if its ruleSelector matches
# these labels (add yours, e.g. release: ..., with a patch in your overlay).
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: dx-connector
  labels:
    app.kubernetes.io/part-of: dx-connector
spec:
"""


def prometheus_rule() -> str:
    """Each rule file's groups (its leading comments dropped), indented under spec."""
    groups = "groups:\n" + "".join(
        re.split(r"^groups:\n", path.read_text(), maxsplit=1, flags=re.MULTILINE)[1]
        for path in RULE_FILES
    )
    return HEADER + textwrap.indent(groups, "  ", lambda line: line.strip() != "")


if __name__ == "__main__":
    PROMETHEUS_RULE.write_text(prometheus_rule())
