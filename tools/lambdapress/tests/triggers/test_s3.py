"""S3 object events: `@triggers.s3` and `triggers.Bucket`, checked at package time."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.model.permissions import objects_ref, resource_ref
from lambdapress.model.triggers import S3Trigger
from lambdapress.triggers.s3 import KIND

from .events import HANDLER, IMPORT, Repo, refused


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


BUCKETS = "[tool.lambdapress.buckets.uploads]\n"


def test_a_trigger_reads_only_the_objects_under_its_prefix(repo: Repo) -> None:
    source = (
        IMPORT
        + '@triggers.s3("uploads", events=("s3:ObjectCreated:Put",), prefix="in/", suffix=".csv")'
        + HANDLER
    )
    repo.service("imports", BUCKETS, load=source)
    (trigger,) = repo.function("imports.load").triggers
    assert trigger == S3Trigger(
        bucket="imports/s3-bucket/uploads",
        events=("s3:ObjectCreated:Put",),
        prefix="in/",
        suffix=".csv",
    )
    assert trigger.label == "imports/uploads/in/*.csv"
    (permission,) = KIND.permissions("imports.load", trigger)
    assert permission.actions == ("s3:GetObject",)
    assert permission.resources == (objects_ref("imports/s3-bucket/uploads", "in/*"),)


def test_a_bucket_handle_reads_writes_and_lists_that_bucket(repo: Repo) -> None:
    repo.service("imports", BUCKETS, put=IMPORT + 'UPLOADS = triggers.Bucket("uploads")' + HANDLER)
    (used,) = repo.function("imports.put").used
    objects, listing = used.permissions
    assert objects.actions == ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
    assert objects.resources == (objects_ref("imports/s3-bucket/uploads", "*"),)
    assert listing.actions == ("s3:ListBucket",)
    assert listing.resources == (resource_ref("imports/s3-bucket/uploads"),)


def test_a_bucket_nobody_declares_is_refused(repo: Repo) -> None:
    repo.service("imports", load=IMPORT + '@triggers.s3("uploads")' + HANDLER)
    refused(repo, repo.module("imports", "load"), 2, fix="[tool.lambdapress.buckets.uploads]")


@pytest.mark.parametrize(
    ("arguments", "fix"),
    [
        ('events=["s3:ObjectCreated"]', "s3:ObjectCreated:*"),
        ("events=[]", "name at least one"),
        ('prefix="in/*"', "without wildcards"),
    ],
)
def test_events_s3_does_not_send_and_wildcard_filters_are_refused(
    repo: Repo, arguments: str, fix: str
) -> None:
    repo.service(
        "imports", BUCKETS, load=IMPORT + f'@triggers.s3("uploads", {arguments})' + HANDLER
    )
    refused(repo, repo.module("imports", "load"), 2, fix=fix)


def test_two_triggers_that_could_match_one_object_are_refused(repo: Repo) -> None:
    repo.service(
        "imports",
        BUCKETS,
        a_all=IMPORT + '@triggers.s3("uploads", prefix="in/")' + HANDLER,
        b_big=IMPORT
        + '\n@triggers.s3("uploads", events=["s3:ObjectCreated:Put"], prefix="in/big/")'
        + HANDLER,
    )
    first = repo.module("imports", "a_all")
    error = refused(repo, repo.module("imports", "b_big"), 3, fix="prefixes")
    assert f"{first}:2" in error.message and "S3 refuses overlapping" in error.message


def test_triggers_with_disjoint_filters_or_events_are_accepted(repo: Repo) -> None:
    repo.service(
        "imports",
        BUCKETS,
        a_csv=IMPORT + '@triggers.s3("uploads", prefix="in/", suffix=".csv")' + HANDLER,
        b_json=IMPORT + '@triggers.s3("uploads", prefix="in/", suffix=".json")' + HANDLER,
        c_gone=IMPORT + '@triggers.s3("uploads", events=["s3:ObjectRemoved:*"])' + HANDLER,
    )
    assert len([f for f in repo.check().functions if f.triggers]) == 3
