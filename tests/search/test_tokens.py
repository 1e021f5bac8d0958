"""The tokenizer the index and the queries share (api/search/tokens.py)."""

import pytest
import sqlalchemy as sa

from api.search.tokens import (
    _TABLED,
    MAX_CLAUSES,
    QueryError,
    fold,
    fold_text,
    index_text,
    matching_spans,
    parse_query,
    spans,
    stem,
)


def test_chinese_is_written_as_overlapping_bigrams_then_single_characters():
    assert index_text("律师事务所").split() == [
        "律师",
        "师事",
        "事务",
        "务所",
        "律",
        "师",
        "事",
        "务",
        "所",
    ]


def test_a_lone_chinese_character_is_itself_in_the_main_stream():
    assert index_text("在 律").split() == ["在", "律"]


def test_traditional_characters_are_folded_to_simplified():
    assert index_text("劉曉波") == index_text("刘晓波")
    assert parse_query("高智晟") == parse_query("高智晟")
    assert parse_query("律師").clauses == (("律师",),)


def test_latin_words_are_casefolded_and_accent_folded():
    assert index_text("Gao Zhìshèng ÉLYSÉE Straße") == "gao zhisheng elys strass"


def test_japanese_and_korean_are_bigrams_too():
    assert index_text("ひらがな").split()[:3] == ["ひら", "らが", "がな"]
    assert index_text("인권").split()[0] == "인권"


@pytest.mark.parametrize(
    ("words", "stemmed"),
    [
        (["detained", "detaining", "detains", "detainee", "detainees", "detain"], "detain"),
        (["release", "released", "releases", "releasing"], "releas"),
        (["party", "parties"], "party"),
        (["ban", "banned", "banning"], "ban"),
    ],
)
def test_english_inflections_meet(words, stemmed):
    assert {stem(word) for word in words} == {stemmed}


def test_derivations_are_kept_apart():
    assert stem("detention") != stem("detained")
    assert stem("nation") != stem("nate")


def test_short_words_digits_and_other_scripts_are_kept_whole():
    assert [stem(word) for word in ["is", "bus", "2008", "права"]] == ["is", "bus", "2008", "права"]


def test_a_mixed_query_is_words_and_a_name_as_a_phrase():
    assert parse_query("Gao Zhisheng 高智晟").clauses == (
        ("gao",),
        ("zhisheng",),
        ("高智", "智晟"),
    )


def test_a_quoted_phrase_is_one_clause_in_order():
    query = parse_query('"Re-education through labour" 律')
    assert query.clauses == (("re", "education", "through", "labour"), ("律",))


def test_an_unclosed_quote_runs_to_the_end():
    assert parse_query('"released lawyers').clauses == (("releas", "lawyer"),)


def test_a_single_character_query_is_that_character():
    assert parse_query("律").clauses == (("律",),)


def test_a_query_without_letters_or_digits_is_refused():
    with pytest.raises(QueryError):
        parse_query(' ,.!?"" ')


def test_a_query_of_too_many_words_is_refused():
    with pytest.raises(QueryError):
        parse_query(" ".join(f"word{n}" for n in range(MAX_CLAUSES + 1)))


def test_repeated_words_count_once():
    assert parse_query("lawyer lawyers LAWYER").clauses == (("lawyer",),)


def test_spans_give_offsets_in_the_original_text():
    text = "Gao 高智晟, détenu"
    found = {token.text: text[token.start : token.end] for token in spans(text)}
    assert found["gao"] == "Gao"
    assert found["高智"] == "高智"
    assert found["智晟"] == "智晟"
    assert found["detenu"] == "détenu"


def test_tokens_hold_only_letters_and_digits():
    text = "a_b c-d e'f «g» h.i 1,5 ℌ ﬁ ①"
    for token in index_text(text).split():
        assert all(char.isalnum() for char in token), token


def test_the_database_keeps_every_token_as_it_is(engine):
    """The index hands the database its tokens: its own parser (PostgreSQL's `simple`
    configuration, SQLite's FTS5 `unicode61` as the search index declares it) must keep
    each one whole and unchanged."""
    text = (
        "Gao Zhìshèng 高智晟 律师事务所 detained 2008 h2o 0x1f x1 007 ½ Straße ひらがな 인권 "
        "Ωμέγα права ١٢٣"
    )
    tokens = index_text(text)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            kept = conn.execute(
                sa.text("SELECT tsvector_to_array(to_tsvector('simple', :t))"), {"t": tokens}
            ).scalar_one()
        else:
            conn.exec_driver_sql(
                "CREATE VIRTUAL TABLE temp.kept USING fts5(t, "
                "tokenize='unicode61 remove_diacritics 0')"
            )
            conn.exec_driver_sql(
                "CREATE VIRTUAL TABLE temp.kept_vocab USING fts5vocab(temp, kept, row)"
            )
            conn.execute(sa.text("INSERT INTO temp.kept (t) VALUES (:t)"), {"t": tokens})
            kept = conn.execute(sa.text("SELECT term FROM temp.kept_vocab")).scalars().all()
            conn.exec_driver_sql("DROP TABLE temp.kept_vocab")
            conn.exec_driver_sql("DROP TABLE temp.kept")
    assert set(kept) == set(tokens.split())


def test_ascii_text_takes_the_fast_path_to_the_same_tokens():
    text = "Detained LAWYERS, 2008: h2o_x; re-education (through) labour's " + "z" * 70
    slow = spans(text + " é")[:-1]  # one non-ASCII word at the end: the general path
    assert spans(text) == slow
    assert "z" * 70 not in index_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "请说明維權律師高智晟的下落，律师。",
        "Detained lawyers: 高智晟 (Gao Zhìshèng) was detained in 2006; 律 alone.",
        "Straße ﬁle ½ ひらがな 인권",
    ],
)
def test_matching_spans_agree_with_the_tokens(text):
    wanted = frozenset(token.text for token in spans(text))
    assert sorted(matching_spans(text, wanted)) == sorted((t.start, t.end) for t in spans(text))


def test_folding_a_text_by_table_is_folding_each_character():
    """`fold_text` takes a table for the common scripts, and `fold` for the rest."""
    tabled = "".join(chr(code) for low, high in _TABLED for code in range(low, high + 1))
    for text in (
        tabled,
        "請說明維權律師高智晟的下落，ＡＢＣ　律师。",
        "Straße ﬁle ½ ひらがな 인권 Zhìshèng 高智晟",
    ):
        assert fold_text(text) == "".join(map(fold, text))
