"""Danish as citizens type it: one folded form, compounds, inflections, emojis ignored."""

from __future__ import annotations

from bot.danish import Kind, TermIndex, fold, fold_pattern, normalise


def _finds(kind: Kind, term: str, text: str) -> bool:
    return bool(TermIndex([(kind, term)]).find(normalise(text)))


def test_case_and_accents_are_folded() -> None:
    assert fold("Crème BRÛLÉE") == "creme brulee"


def test_danish_letters_and_their_ascii_spellings_fold_alike() -> None:
    assert fold("Skraldespanden er tømt på Vridsløselille") == fold(
        "skraldespanden er toemt paa Vridsloeselille"
    )


def test_dropped_danish_letters_fold_like_the_real_ones() -> None:
    assert fold("gøre rør") == fold("gore ror")


def test_emojis_and_punctuation_never_reach_the_words() -> None:
    assert normalise("Hvornår?? 🙄🗑️ (storskrald!)").words == " hvornar storskrald "


def test_a_text_of_emojis_only_has_no_words() -> None:
    assert not normalise("❤️❤️ 👏!!").has_words


def test_regular_expressions_keep_punctuation() -> None:
    assert normalise("@Mette Sørensen 😄 se her?").plain == "@mette sorensen se her?"


def test_a_pattern_is_folded_like_the_text_but_keeps_its_escapes() -> None:
    assert fold_pattern(r"vandrør\S+\?") == r"vandror\S+\?"


def test_a_keyword_is_found_inside_a_compound() -> None:
    assert _finds(Kind.KEYWORD, "affald", "Hvad med haveaffaldsordningen?")


def test_a_keyword_is_found_inflected() -> None:
    assert _finds(Kind.KEYWORD, "rotter", "Der er en rotte i haven")


def test_a_keyword_needs_a_real_compound_head_before_it() -> None:
    assert not _finds(Kind.KEYWORD, "rotte", "Vi var i grotten")


def test_a_whole_word_is_found_with_its_ending() -> None:
    assert _finds(Kind.WORD, "pas", "Hvornår er passet klar?")


def test_a_whole_word_is_not_found_inside_another_word() -> None:
    assert not _finds(Kind.WORD, "pas", "Hvad med pasningsgarantien?")


def test_a_whole_word_is_found_in_its_ascii_spelling() -> None:
    assert _finds(Kind.WORD, "tømt", "spanden er ikke toemt")


def test_a_phrase_needs_its_words_in_a_row() -> None:
    index = TermIndex([(Kind.PHRASE, "farligt affald")])
    assert index.find(normalise("Er det farligt affald?"))
    assert not index.find(normalise("Er affald farligt?"))


def test_a_longer_term_hides_the_shorter_one_inside_it() -> None:
    index = TermIndex([(Kind.KEYWORD, "brand"), (Kind.KEYWORD, "brændeovn")])
    found = index.find(normalise("Naboens brændeovn ryger"))
    assert [item.term for item in found] == [1]


def test_every_place_a_term_occurs_is_found() -> None:
    index = TermIndex([(Kind.WORD, "sti")])
    assert len(index.find(normalise("Stien og stierne"))) == 2
