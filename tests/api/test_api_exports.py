"""The API's SDTM, FHIR and REDCap downloads and the ADaM formats: streamed, blinded, refused
where the command line refuses (the files themselves are checked in tests/web/test_downloads.py
and tests/interop)."""

from __future__ import annotations

import io
import json
import zipfile

from hepatrial.edc.models import AuditEvent


def _body(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def _names(response) -> set[str]:
    assert response["Content-Type"] == "application/zip"
    return set(zipfile.ZipFile(io.BytesIO(_body(response))).namelist())


def test_sdtm_fhir_redcap_and_adam_formats_download_blinded_for_the_statistician(api, trial):
    trial.randomized(days_ago=5)
    statistician = api("statistician")
    sdtm = _names(statistician.get("/exports/sdtm", format="json"))
    assert {"dm.json", "define.json"} <= sdtm and not [n for n in sdtm if n.endswith(".xpt")]
    fhir = statistician.get("/exports/fhir")
    assert fhir["Content-Type"] == "application/fhir+json"
    assert "fhir-blinded-" in fhir["Content-Disposition"]
    assert json.loads(_body(fhir))["resourceType"] == "Bundle"
    assert {"data_dictionary.csv", "records.csv"} <= _names(statistician.get("/exports/redcap"))
    assert {"adsl.sav", "read_adam.R"} <= _names(statistician.get("/exports/adam", format="spss"))

    assert statistician.get("/exports/adam", format="sav").status_code == 422
    for path in ("/exports/sdtm", "/exports/fhir", "/exports/adam"):
        refused = statistician.get(path, unblinded=1)
        assert refused.status_code == 403 and refused.json()["code"] == "export.needs_lock"
    coordinator = api("coordinator", "zh-hans")
    for path in ("/exports/sdtm", "/exports/fhir", "/exports/redcap"):
        refused = coordinator.get(path)
        assert refused.status_code == 403
        assert refused.json()["detail"] == "您的角色不包括导出分析数据集"
    counted = AuditEvent.objects.filter(action="export").values_list("object_id", flat=True)
    assert sorted(counted) == ["adam", "fhir", "redcap", "sdtm"]
