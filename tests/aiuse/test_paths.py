"""RFC 9309 path patterns (shared by robots.txt, AIPREF Content-Usage, TDMRep and RSL): the RFC's
own examples (§2.2.2 figure 4, §2.2.3 figures 5 and 6, §5.1, §5.2) and the normalisation
invariants."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from obra.aiuse.signals.paths import match_length, normalize, normalize_path, path_of, pattern_matches


@pytest.mark.parametrize("written, to_match", [
    ("/foo/bar?baz=quz", "/foo/bar?baz=quz"),                  # RFC 9309 figure 4, row 1
    ("/foo/bar/ツ", "/foo/bar/%E3%83%84"),                     # row 3: non-ASCII is encoded
    ("/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84"),              # row 4: already encoded stays
    ("/foo/bar/%62%61%7A", "/foo/bar/baz"),                    # row 5: unreserved is decoded
    ("/foo/bar/%e3%83%84", "/foo/bar/%E3%83%84"),              # hex case does not matter
    ("/a%2Fb", "/a%2Fb"),                                      # an encoded reserved char is kept
    ("/a b\t", "/a%20b%09"),                                   # attach-05: SP and HTAB encoded
    ("/100%", "/100%25"),                                      # a stray % is encoded, both sides
])
def test_percent_encoding_is_normalised_as_rfc_9309_figure_4_shows(written, to_match):
    assert normalize(written) == to_match


@pytest.mark.parametrize("pattern, url", [
    ("/path/file-with-a-%2A.html", "https://www.example.com/path/file-with-a-*.html"),   # figure 6
    ("/path/foo-%24", "https://www.example.com/path/foo-$"),
])
def test_encoded_special_characters_match_them_literally(pattern, url):
    assert pattern_matches(pattern, path_of(url))


def test_a_literal_star_in_a_path_is_not_a_wildcard_but_in_a_pattern_it_is():
    assert normalize_path("/a*b$") == "/a%2Ab%24"
    assert pattern_matches("/this/*/exactly", "/this/is/exactly")            # figure 5
    assert pattern_matches("/this/path/exactly$", "/this/path/exactly")
    assert not pattern_matches("/this/path/exactly$", "/this/path/exactly/not")
    assert pattern_matches("/a$b", "/a$b/c")                                 # a non-final $ is literal


@pytest.mark.parametrize("pattern, path, length", [
    ("*.gif$", "/images/x.gif", 6),                            # §5.1: "*" crosses "/"
    ("*.gif$", "/images/x.gif?v=1", None),
    ("/example/", "/example/page.html", 9),
    ("/publications/", "/publications/x", 14),
    ("/example/page/disallowed.gif", "/example/page/disallowed.gif", 28),   # §5.2
    ("/example/page/", "/example/page/disallowed.gif", 14),
    ("/fish", "/Fish.asp", None),                              # case-sensitive
    ("/fish*", "/fish.html", 6),
    ("/", "/anything", 1),
    ("", "/anything", 0),                                      # no path: applies to all, least specific
    ("/caf%C3%A9", "/café/menu", 10),                          # raw and encoded spell the same path
    ("/café", "/caf%c3%a9", 10),
])
def test_match_length_is_the_normalised_pattern_in_octets(pattern, path, length):
    assert match_length(pattern, path) == length


@pytest.mark.parametrize("url, path", [
    ("https://example.com", "/"),
    ("https://example.com/a/b?x=1#frag", "/a/b?x=1"),
    ("https://example.com/a?", "/a?"),
    ("/only/a/path#x", "/only/a/path"),
    ("//double/slash", "//double/slash"),                      # a path, not an authority
    ("http://[::1", "/"),                                      # an invalid URL is not a crash
])
def test_path_of_keeps_path_and_query(url, path):
    assert path_of(url) == path


@given(st.text(max_size=40))
def test_normalising_twice_changes_nothing_and_yields_printable_ascii(text):
    once = normalize(text)
    assert normalize(once) == once
    assert all(0x20 < ord(c) < 0x7F for c in once)


@given(st.text(alphabet=st.characters(blacklist_characters="*$%"), max_size=30), st.text(max_size=20))
def test_a_path_always_matches_itself_as_a_prefix(path, tail):
    # any text without wildcards or escapes, used as a pattern, matches the same text and what follows it
    assert match_length(path, path + tail) == len(normalize(path))
