"""DDEX DSR flat files: the public samples reconcile to their footers; bad files are refused whole."""

from __future__ import annotations

import gzip
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from obra.errors import InvalidInput
from obra.royalties.formats.dsr_fast import parse_dsr
from obra.royalties.formats.dsr_spec import duration_seconds, period_from_name
from ..samples import NAME_FIXTURES, YOUTUBE, variant


def test_youtube_sample_reconciles_to_its_footer():
    lines = []
    report = parse_dsr(YOUTUBE, on_line=lines.append)
    # FOOT: 35 lines, 4 summary records, 3 blocks — counted from the file, not copied from FOOT.
    assert (report.lines, report.summaries, report.blocks) == (35, 4, 3)
    assert report.foot["NumberOfLinesInFile"] == str(report.lines)
    assert report.period == "2015-Q4"
    assert [u.plays for u in lines] == [7810, 2045, 18, 4, 258, 75]
    assert {u.territory for u in lines} == {"IS"}
    assert lines[0].isrc == "USSM19803037" and lines[0].artist == "Marvin Gaye"
    assert lines[1].iswc == "T9109247316"
    assert lines[0].commercial_model == "AdSupport" and lines[0].use_type == "stream"
    assert sum(u.revenue for u in lines) == Decimal("7.0")
    assert sum(p.net_revenue for p in report.pools) == Decimal("15763.58")


def test_gzipped_report_reads_the_same(tmp_path):
    gz = tmp_path / (YOUTUBE.name + ".gz")
    gz.write_bytes(gzip.compress(YOUTUBE.read_bytes()))
    plain, packed = [], []
    parse_dsr(YOUTUBE, on_line=plain.append)
    parse_dsr(gz, on_line=packed.append)
    assert packed == plain


@pytest.mark.parametrize("path", NAME_FIXTURES, ids=lambda p: p.name[-30:])
def test_file_name_fixtures_with_wrong_footer_are_refused(path):
    # These ddexnet/dsrf samples exist to test file names; their FOOT claims 123 lines for 7.
    with pytest.raises(InvalidInput) as err:
        parse_dsr(path)
    foot = [p for p in err.value.problems if p.field == "NumberOfLinesInFile"]
    assert foot and foot[0].line == 7 and "123" in foot[0].message and "7" in foot[0].message


def _problems(tmp_path, edit):
    bad = variant(tmp_path, YOUTUBE, edit)
    seen = []
    with pytest.raises(InvalidInput) as err:
        parse_dsr(bad, on_line=seen.append)
    return err.value.problems, seen


def test_footer_block_count_mismatch_is_located(tmp_path):
    problems, _ = _problems(tmp_path, lambda ls: [l.replace("FOOT\t35\t35\t4\t3\t3", "FOOT\t35\t35\t4\t4\t3")
                                                  for l in ls])
    assert [(p.line, p.field) for p in problems] == [(35, "NumberOfBlocksInFile")]


def test_bad_isrc_names_line_and_field(tmp_path):
    problems, _ = _problems(tmp_path, lambda ls: [l.replace("USSM19803037", "USSM1980303") for l in ls])
    assert [(p.line, p.field) for p in problems] == [(14, "ISRC")]


def test_non_numeric_usages_and_extra_cell(tmp_path):
    def edit(ls):
        ls[16] = ls[16].replace("\t7810\t", "\tmany\t")   # line 17, SU03.01
        ls[17] = ls[17] + "\textra"                       # line 18, LI01.01
        return ls
    problems, _ = _problems(tmp_path, edit)
    assert {(p.line, p.field) for p in problems} == {(17, "Usages"), (18, None)}


def test_a_list_of_usages_in_a_sales_record_is_reported_not_a_crash(tmp_path):
    """Usages is a list only in RU records (paired with DspReleaseId); '1|7' in SU03.01 is named by line."""
    problems, _ = _problems(tmp_path, lambda ls: [l.replace("\t7810\t", "\t1|7\t") for l in ls])
    assert [(p.line, p.field) for p in problems] == [(17, "Usages")]
    assert "holds a list" in problems[0].message


def test_a_summary_header_without_summary_record_id_is_reported_not_a_crash(tmp_path):
    def edit(ls):
        return [("\t".join(l.split("\t")[:1] + l.split("\t")[2:]) if l.startswith(("#SY02.01", "SY02.01")) else l)
                for l in ls]
    problems, _ = _problems(tmp_path, edit)
    assert (3, "SummaryRecordId") in {(p.line, p.field) for p in problems}
    assert any("does not declare the mandatory cell 'SummaryRecordId'" in p.message for p in problems)


def test_unknown_record_and_missing_footer(tmp_path):
    def edit(ls):
        ls[19] = "XX99\t1\tsomething"
        return [l for l in ls if not l.startswith("FOOT")]
    problems, _ = _problems(tmp_path, edit)
    fields = {p.field for p in problems}
    assert "RecordType" in fields
    assert any("no FOOT" in p.message for p in problems)


def test_usage_pointing_to_undeclared_summary(tmp_path):
    problems, _ = _problems(tmp_path, lambda ls: [l.replace("SU03.01\t1\tU1\t1\t", "SU03.01\t1\tU1\t9\t")
                                                  for l in ls])
    assert [(p.line, p.field) for p in problems] == [(17, "SummaryRecordId")]


def test_durations_and_periods():
    assert duration_seconds("PT3M25S") == 205
    assert duration_seconds("PT1H0M1S") == 3601
    assert duration_seconds("PT0H0M0S") is None
    with pytest.raises(ValueError):
        duration_seconds("3:25")
    assert period_from_name(YOUTUBE.name) == "2015-Q4"
    assert period_from_name(NAME_FIXTURES[0].name) == "2015-02"


def write_dsr(path, territory, summaries, blocks):
    """A DSR flat file in the UGC profile layout of the public sample, FOOT computed."""
    lines = ["HEAD\tdsrf/30\tUGCProfile\t1.0\tM1\t2026-04-01T10:00:00Z\t1\t1\t2026-03-01\t2026-03-31\t"
             "PADPIDA2013020802I\tTestDSP\tPremium\tPADPIDA20070627029\tOBRA\t",
             "#SY02.01\tSummaryRecordId\tDistributionChannel\tDistributionChannelDPID\tCommercialModel\tUseType\t"
             "Territory\tServiceDescription\tUsages\tUsers\tCurrency\tNetRevenue"]
    for i, (model, revenue) in enumerate(summaries, start=1):
        lines.append(f"SY02.01\t{i}\t\t\t{model}\tStream\t{territory}\tPremium\t1000\t\tEUR\t{revenue}")
    for b, (isrc, title, artist, seconds, uses) in enumerate(blocks, start=1):
        lines.append(f"AS01\t{b}\tR{b}\tD{b}\t{isrc or ''}\t{title}\t\t{artist}\t\tPT{seconds // 60}M{seconds % 60}S\t"
                     "SoundRecording")
        for k, (summary, plays, revenue) in enumerate(uses, start=1):
            lines.append(f"SU03.01\t{b}\tU{b}-{k}\t{summary}\tD{b}\t{plays}\t{revenue}\t\t")
    lines.append(f"FOOT\t{len(lines) + 1}\t{len(lines) + 1}\t{len(summaries)}\t{len(blocks)}\t{len(blocks)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1,
                 max_size=15).filter(lambda s: s.strip() == s and "\t" not in s and s)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(territory=st.sampled_from(["ES", "UY", "JP", "US"]),
       summaries=st.lists(st.tuples(st.sampled_from(["SubscriptionModel", "AdvertisementSupportedModel"]),
                                    st.decimals(0, 10**7, places=2)), min_size=1, max_size=3),
       blocks=st.lists(st.tuples(st.one_of(st.none(), st.just("USRH10903879")), _names, _names,
                                 st.integers(1, 3600),
                                 st.lists(st.tuples(st.integers(1, 3), st.integers(0, 10**9),
                                                    st.decimals(0, 10**4, places=4)), min_size=1, max_size=3)),
                       min_size=1, max_size=6))
def test_generated_reports_round_trip(tmp_path_factory, territory, summaries, blocks):
    blocks = [(isrc, t, a, s, [(min(k, len(summaries)), p, r) for k, p, r in uses]) for isrc, t, a, s, uses in blocks]
    path = write_dsr(tmp_path_factory.mktemp("dsr") / "DSR_A_B_Premium_2026-03_ES_1of1_20260401T100000.tsv",
                     territory, summaries, blocks)
    got = []
    report = parse_dsr(path, on_line=got.append)
    expected = [(territory, isrc, title, artist, seconds, plays, revenue,
                 "Subscription" if summaries[k - 1][0] == "SubscriptionModel" else "AdSupport")
                for isrc, title, artist, seconds, uses in blocks for k, plays, revenue in uses]
    assert [(u.territory, u.isrc, u.title, u.artist, u.duration_s, u.plays, u.revenue, u.commercial_model)
            for u in got] == expected
    assert report.period == "2026-03" and report.blocks == len(blocks)
    assert sum(p.net_revenue for p in report.pools) == sum(r for _, r in summaries)
