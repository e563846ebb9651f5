"""The exports page: each download for the roles that may export, blinded unless chosen and
allowed, refused in the reader's language, audited once."""

from __future__ import annotations

import io
import json
import zipfile

from django.urls import reverse
from lxml import etree

from hepatrial.edc.models import AuditEvent
from hepatrial.edc.roles import Role
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.lock import lock_database
from tests.edc.conftest import E as Entered
from tests.edc.test_export import ARM_WORDS, followed  # noqa: F401  (the fixture)
from tests.interop.test_sdtm import arm_revealed
from tests.web.test_enrolment import client_for

PAGE = "/exports/"
ADAM_FILES = ("adsl.csv", "adlb.csv", "adtte.csv", "adae.csv", "screening.csv", "plan.json",
              "read_adam.R", "read_adam.sas", "signatures.csv", "provenance.json")  # fmt: skip
DESIGN = ("protocol.yaml",)
"""The protocol beside the datasets names its arms, as the public design on the overview does."""


def _download(client, **form):
    response = client.post(PAGE, form)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return response, b"".join(response.streaming_content)


def _members(content: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {name: archive.read(name) for name in archive.namelist()}


def _arm_words(text: str) -> list[str]:
    return [word for word in ARM_WORDS if word in text]


def test_the_statistician_downloads_every_export_blinded_and_each_is_audited_once(
    trial,
    followed,  # noqa: F811
):
    statistician = client_for("statistician")
    page = statistician.get(PAGE).content.decode()
    assert 'data-testid="nav-exports"' in page
    assert 'data-testid="exports-unblinded-later"' in page and "locked database" in page
    assert 'name="blinding"' not in page, "no unblinded choice before the lock"

    response, content = _download(statistician, kind="adam", format="csv")
    assert response["Content-Type"] == "application/zip"
    assert "adam-blinded-csv-" in response["Content-Disposition"]
    files = _members(content)
    assert set(ADAM_FILES) <= set(files)
    for name, data in files.items():
        if name not in DESIGN:
            assert not _arm_words(data.decode()), name
    assert b"ARMCD" in files["adsl.csv"] and b",X," in files["adsl.csv"]
    _, content = _download(statistician, kind="adam", format="sas")
    assert {"adsl.xpt", "adlb.xpt", "read_adam.sas"} <= set(_members(content))

    response, content = _download(statistician, kind="odm", content="snapshot")
    assert response["Content-Type"] == "application/xml"
    root = etree.fromstring(content)
    assert etree.QName(root).localname == "ODM"
    assert not _arm_words(content.decode()) and b"AuditRecord" not in content
    _, content = _download(statistician, kind="odm", content="audit")
    assert b"AuditRecord" in content and not _arm_words(content.decode())

    response, content = _download(statistician, kind="sdtm", format="both")
    files = _members(content)
    assert {"dm.xpt", "dm.json", "lb.xpt", "lb.json", "define.json"} <= set(files)
    assert "ex.json" not in files
    documents = [json.loads(data) for name, data in files.items()
                 if name.endswith(".json") and name != "define.json"]  # fmt: skip
    rows = {d["name"]: [dict(zip([c["name"] for c in d["columns"]], row, strict=True))
                        for row in d["rows"]] for d in documents}  # fmt: skip
    assert arm_revealed(rows) == [] and {r["ARMCD"] for r in rows["DM"]} == {"X", "Y"}
    assert json.loads(files["define.json"])["Blinded"] is True

    response, content = _download(statistician, kind="fhir")
    assert response["Content-Type"] == "application/fhir+json"
    assert json.loads(content)["resourceType"] == "Bundle"
    assert not _arm_words(content.decode())

    response, content = _download(statistician, kind="redcap")
    files = _members(content)
    assert {"data_dictionary.csv", "events.csv", "records.csv"} <= set(files)
    assert not [n for n, data in files.items() if _arm_words(data.decode())]

    exports = AuditEvent.objects.filter(action="export", username="statistician")
    counts = {kind: exports.filter(object_id=kind).count()
              for kind in ("adam", "odm", "sdtm", "fhir", "redcap")}  # fmt: skip
    assert counts == {"adam": 2, "odm": 2, "sdtm": 1, "fhir": 1, "redcap": 1}
    assert not exports.exclude(context__blinded=True).exists()


def test_a_role_that_may_not_export_sees_no_link_and_is_refused(trial):
    for username in ("coordinator", "assessor"):
        client = client_for(username)
        assert 'data-testid="nav-exports"' not in client.get(reverse("overview")).content.decode()
        for response in (client.get(PAGE), client.post(PAGE, {"kind": "adam"})):
            assert response.status_code == 403
            assert "does not include exporting analysis datasets" in response.content.decode()
    chinese = client_for("coordinator", "zh-hans").get(PAGE)
    assert chinese.status_code == 403 and "您的角色不包括导出分析数据集" in chinese.content.decode()
    assert not AuditEvent.objects.filter(action="export").exists()


def test_unblinded_is_refused_before_the_lock_and_offered_after_it(trial):
    trial.randomized(days_ago=5)
    statistician = client_for("statistician")
    refused = statistician.post(PAGE, {"kind": "adam", "blinding": "unblinded"})
    assert refused.status_code == 403 and refused["Content-Type"].startswith("text/html")
    assert 'data-testid="exports-error"' in refused.content.decode()
    assert "locked database" in refused.content.decode()
    assert statistician.post(PAGE, {"kind": "adam", "format": "sav"}).status_code == 400
    assert statistician.post(PAGE, {"kind": "redcap", "blinding": "unblinded"}).status_code == 400
    assert not AuditEvent.objects.filter(action="export").exists()

    lock_database(trial[Role.ADMINISTRATOR], "final analysis")
    page = statistician.get(PAGE).content.decode()
    assert 'data-testid="adam-unblinded"' in page and "exports-unblinded-later" not in page
    response, content = _download(statistician, kind="adam", format="csv", blinding="unblinded")
    assert "adam-unblinded-csv-" in response["Content-Disposition"]
    assert _arm_words(_members(content)["adsl.csv"].decode())


def test_the_page_and_its_refusals_read_in_chinese(trial):
    statistician = client_for("statistician", "zh-hans")
    page = statistician.get(PAGE).content.decode()
    for text in ("导出", "分析数据集（ADaM）", "下载 REDCap 项目", "需先锁定数据库"):
        assert text in page, text
    assert "Download the" not in page
    refused = statistician.post(PAGE, {"kind": "fhir", "blinding": "unblinded"}).content.decode()
    assert "需先锁定数据库" in refused and "locked database" not in refused


def test_sdtm_that_transport_v5_cannot_hold_is_an_error_page_not_half_a_file(trial):
    """A Chinese adverse-event term is not ASCII, which SAS transport v5 requires."""
    participant, _ = trial.randomized(days_ago=20)
    save_form(trial.coordinator, participant.screening_number, "LOG", "F.AE", {
        "I.AETERM": Entered("发热"), "I.AESTDT": Entered(str(trial.days_ago(10))),
        "I.AEGRADE": Entered("2"), "I.AESER": Entered("no"), "I.AEREL": Entered("possible"),
    }, base_version=0, repeat=None)  # fmt: skip
    statistician = client_for("statistician", "zh-hans")
    refused = statistician.post(PAGE, {"kind": "sdtm", "format": "both"})
    assert refused.status_code == 409 and refused["Content-Type"].startswith("text/html")
    text = refused.content.decode()
    assert "SAS 传输格式 v5 无法容纳这些数据集" in text and "AE.AETERM" in text
    assert not AuditEvent.objects.filter(action="export").exists()
    _, content = _download(statistician, kind="sdtm", format="json")
    assert "发热" in _members(content)["ae.json"].decode()
