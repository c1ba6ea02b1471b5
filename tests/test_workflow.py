"""The GitHub workflow: actions pinned to commits, least privilege per job, timeouts, and the notebooks published
by a job of their own."""

import re
from pathlib import Path

import yaml

WORKFLOW = yaml.safe_load((Path(__file__).resolve().parents[1] / ".github" / "workflows" / "book.yml").read_text())


def test_every_action_is_pinned_to_a_commit():
    uses = [step["uses"] for job in WORKFLOW["jobs"].values() for step in job["steps"] if "uses" in step]
    assert uses and all(re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", use) for use in uses), uses


def test_each_job_has_a_timeout_and_only_the_permissions_it_needs():
    assert WORKFLOW["permissions"] == {"contents": "read"}
    jobs = WORKFLOW["jobs"]
    assert all("timeout-minutes" in job for job in jobs.values())
    assert jobs["publish-colab"]["permissions"] == {"contents": "write"}
    assert jobs["deploy-pages"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert "permissions" not in jobs["build"]


def test_the_notebooks_are_published_even_when_pages_deployment_fails():
    assert WORKFLOW["jobs"]["publish-colab"]["needs"] == "build"
    run = "\n".join(step.get("run", "") for step in WORKFLOW["jobs"]["build"]["steps"])
    assert "make colab-check" in run and "make site-check" in run and "glassbox_build.notebooks --branch" in run
