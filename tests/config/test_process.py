from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import yaml

from config.process import ConfigError, load_process_config
from config.settings import DEFAULT_CONFIG_PATH


def write_config(tmp_path: Path, change: dict[str, object]) -> Path:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data.update(change)
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_shipped_file_holds_the_spec_defaults() -> None:
    config = load_process_config(DEFAULT_CONFIG_PATH)
    assert config.region_codes == ("EMEA", "US", "APAC", "IST")
    assert config.queue.subject_prefix == "Big Data DM, please reassign"
    assert config.case_transfer.channel_id == ""
    schedule = config.schedule()
    # Monday 2026-11-23 10:00 UTC: EMEA is on shift (08:00-16:00 UTC), APAC's ended at 08:00.
    assert "EMEA" in schedule.regions_on_shift(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    assert schedule.next_region("IST") == "EMEA"


def test_placeholders_only_no_real_contacts() -> None:
    config = load_process_config(DEFAULT_CONFIG_PATH)
    for contacts in config.smes.values():
        for contact in contacts:
            assert contact.email.endswith("@example.invalid")
    assert config.queue.address.endswith("@example.invalid")


def test_a_wrong_zone_is_reported_with_its_path(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["shifts"][1]["timezone"] = "Mars/Olympus_Mons"
    path = write_config(tmp_path, {"shifts": data["shifts"]})
    with pytest.raises(ConfigError) as caught:
        load_process_config(path)
    assert "shifts[1].timezone" in str(caught.value)
    assert "Mars/Olympus_Mons" in str(caught.value)
    assert str(path) in str(caught.value)


def test_an_unquoted_time_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "handoff.yaml"
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace('time: "16:30"', "time: 16:30")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r'meetings\[1\]\.time: .*quoted "HH:MM"'):
        load_process_config(path)


def test_an_unknown_region_in_a_meeting_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["meetings"][0]["to_regions"] = ["IST", "LATAM"]
    path = write_config(tmp_path, {"meetings": data["meetings"]})
    with pytest.raises(ConfigError, match=r"meetings\[0\]\.to_regions: region 'LATAM'"):
        load_process_config(path)


def test_an_unknown_weekday_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["shifts"][0]["workdays"] = ["Mon", "Funday"]
    path = write_config(tmp_path, {"shifts": data["shifts"]})
    with pytest.raises(ConfigError, match=r"shifts\[0\]\.workdays: unknown weekday 'Funday'"):
        load_process_config(path)


def test_a_missing_section_is_named(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    del data["queue"]
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="queue: Field required"):
        load_process_config(path)


def test_a_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"HANDOFF_CONFIG: cannot read .*nope\.yaml"):
        load_process_config(tmp_path / "nope.yaml")


def test_broken_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "handoff.yaml"
    path.write_text("regions: [EMEA\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_process_config(path)


def test_a_region_without_a_shift_is_named(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    shifts = [shift for shift in data["shifts"] if shift["region"] != "IST"]
    path = write_config(tmp_path, {"shifts": shifts})
    with pytest.raises(ConfigError) as caught:
        load_process_config(path)
    assert "shifts: region 'IST' has no shift; add one" in str(caught.value)
    assert str(path) in str(caught.value)


def test_no_shifts_at_all_names_the_first_region(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"shifts": []})
    with pytest.raises(ConfigError, match="shifts: region 'EMEA' has no shift; add one"):
        load_process_config(path)


def test_a_region_with_two_shifts_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    path = write_config(tmp_path, {"shifts": [*data["shifts"], data["shifts"][1]]})
    with pytest.raises(ConfigError, match="shifts: region 'US' has 2 shifts; keep one"):
        load_process_config(path)


def test_allowed_teams_take_teams_team_ids(tmp_path: Path) -> None:
    team = "19:0a1b2c3d4e5f60718293a4b5c6d7e8f9@thread.tacv2"
    transfer = {"team_id": "", "channel_id": "", "allowed_teams": [team]}
    config = load_process_config(write_config(tmp_path, {"case_transfer": transfer}))
    assert config.case_transfer.allowed_teams == (team,)
    transfer["allowed_teams"] = ["Escalation Engineers"]
    with pytest.raises(ConfigError, match=r"case_transfer\.allowed_teams: 'Escalation Engineers'"):
        load_process_config(write_config(tmp_path, {"case_transfer": transfer}))


def test_allowed_groups_take_entra_group_object_ids(tmp_path: Path) -> None:
    group = "5B0C7A1E-2F3D-4C5B-9A8E-1D2C3B4A5F60"
    transfer: dict[str, object] = {"allowed_groups": [group]}
    config = load_process_config(write_config(tmp_path, {"case_transfer": transfer}))
    assert config.case_transfer.allowed_groups == (group.lower(),), "Graph's spelling"


@pytest.mark.parametrize(
    "wrong",
    ["Support Engineers", "support@contoso.example", "5b0c7a1e-2f3d-4c5b-9a8e", "{5b0c7a1e}"],
)
def test_an_allowed_group_that_is_not_an_object_id_is_named(tmp_path: Path, wrong: str) -> None:
    good = "5b0c7a1e-2f3d-4c5b-9a8e-1d2c3b4a5f60"
    transfer: dict[str, object] = {"allowed_groups": [good, wrong]}
    with pytest.raises(ConfigError) as raised:
        load_process_config(write_config(tmp_path, {"case_transfer": transfer}))
    assert f"case_transfer.allowed_groups[1]: {wrong!r} is not an Entra group's object id" in str(
        raised.value
    )


def test_insights_targets_default_when_the_section_is_absent(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data.pop("insights")
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    targets = load_process_config(path).insights.targets()
    assert {severity.value: minutes for severity, minutes in targets.items()} == {
        "A": 30,
        "B": 120,
        "C": 480,
    }


def test_insights_targets_given_in_part_keep_the_other_defaults(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"insights": {"targets_minutes": {"A": 15}}})
    targets = load_process_config(path).insights.targets()
    assert [targets[s] for s in sorted(targets)] == [15, 120, 480]


@pytest.mark.parametrize(
    ("targets", "says"),
    [
        ({"D": 10}, r"insights\.targets_minutes\.D"),
        ({"A": 0}, r"insights\.targets_minutes\.A.*greater than or equal to 1"),
        ({"B": "soon"}, r"insights\.targets_minutes\.B"),
    ],
)
def test_bad_insights_targets_name_the_setting(
    tmp_path: Path, targets: dict[str, object], says: str
) -> None:
    path = write_config(tmp_path, {"insights": {"targets_minutes": targets}})
    with pytest.raises(ConfigError, match=says):
        load_process_config(path)


def test_the_digest_time_defaults_to_eight_and_is_read_as_quoted_text(tmp_path: Path) -> None:
    assert load_process_config(write_config(tmp_path, {})).insights.digest_time == time(8, 0)
    path = write_config(tmp_path, {"insights": {"digest_time": "10:30"}})
    assert load_process_config(path).insights.digest_time == time(10, 30)
    # Unquoted, YAML reads 10:30 as the number 630 (minutes, base 60).
    path.write_text(path.read_text(encoding="utf-8").replace("'10:30'", "10:30"))
    with pytest.raises(ConfigError, match=r'insights\.digest_time: .*quoted "HH:MM"'):
        load_process_config(path)


def test_the_commitment_notice_defaults_to_thirty_minutes(tmp_path: Path) -> None:
    shipped = load_process_config(DEFAULT_CONFIG_PATH).reminders
    assert shipped.commitment_notice == timedelta(minutes=30)
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["reminders"].pop("commitment_notice_minutes")
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_process_config(path).reminders.commitment_notice_minutes == 30
    given = write_config(tmp_path, {"reminders": {"commitment_notice_minutes": 45}})
    assert load_process_config(given).reminders.commitment_notice == timedelta(minutes=45)


@pytest.mark.parametrize(
    ("minutes", "says"),
    [
        (0, r"reminders\.commitment_notice_minutes: 0 minutes is out of range: give how many"),
        (1441, r"reminders\.commitment_notice_minutes: 1441 minutes .* from 1 to 1440"),
        ("soon", r"reminders\.commitment_notice_minutes: .*valid integer"),
    ],
)
def test_a_bad_commitment_notice_names_the_setting_and_the_range(
    tmp_path: Path, minutes: object, says: str
) -> None:
    path = write_config(tmp_path, {"reminders": {"commitment_notice_minutes": minutes}})
    with pytest.raises(ConfigError, match=says):
        load_process_config(path)


def test_a_case_system_is_optional_and_its_host_is_what_links_unfurl(tmp_path: Path) -> None:
    assert load_process_config(DEFAULT_CONFIG_PATH).case_system.url_template is None
    assert load_process_config(DEFAULT_CONFIG_PATH).case_system.link_domain == ""
    template = "https://Support.Example.com/cases/{case}?tab=notes"
    path = write_config(tmp_path, {"case_system": {"url_template": template}})
    config = load_process_config(path)
    assert config.case_system.url_template == template
    assert config.case_system.link_domain == "support.example.com"


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("support.example.com/cases/{case}", "is not a web address"),
        ("ftp://support.example.com/{case}", "is not a web address"),
        ("https://support.example.com/cases/", "must have {case} exactly once"),
        ("https://x.example/{case}/{case}", "must have {case} exactly once"),
        ("https://{case}.example.com/view", "not the host"),
        ("https://x.example/{case}?user={user}", "the only placeholder is {case}"),
        ("https://x.example/my cases/{case}", "has no spaces"),
    ],
)
def test_a_wrong_case_link_template_says_what_to_fix(
    tmp_path: Path, template: str, says: str
) -> None:
    path = write_config(tmp_path, {"case_system": {"url_template": template}})
    with pytest.raises(ConfigError) as raised:
        load_process_config(path)
    message = str(raised.value)
    assert "case_system.url_template" in message and says in message
    assert "e.g. https://support.example.com/cases/{case}" in message or "{case}" in message


def test_the_case_system_takes_no_other_setting(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"case_system": {"url": "https://x.example/{case}"}})
    with pytest.raises(ConfigError, match=r"case_system\.url: Extra inputs are not permitted"):
        load_process_config(path)


def test_the_team_speaks_english_unless_the_file_says_otherwise(tmp_path: Path) -> None:
    assert load_process_config(DEFAULT_CONFIG_PATH).case_transfer.language == "en"
    path = write_config(tmp_path, {"case_transfer": {"language": "pt_BR"}})
    assert load_process_config(path).case_transfer.language == "pt_BR"


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("klingon", r"case_transfer\.language: 'klingon' is not a language the bot speaks; "),
        ("de-DE", r"'de-DE' is not a language the bot speaks \(for 'de-DE' write 'de'\)"),
    ],
)
def test_a_language_the_bot_does_not_speak_is_refused_naming_those_it_does(
    tmp_path: Path, language: str, says: str
) -> None:
    path = write_config(tmp_path, {"case_transfer": {"language": language}})
    with pytest.raises(ConfigError, match=says) as raised:
        load_process_config(path)
    assert "write one of en, de, fr, es, ja, zh_Hans, pt_BR" in str(raised.value)
