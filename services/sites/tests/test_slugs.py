"""Which site names are accepted: one lowercase DNS label, not reserved."""

import pytest

from hosting.slugs import slug_problem


@pytest.mark.parametrize("slug", ["abc", "my-site", "a1b2", "123", "x" * 63, "team-42-launch"])
def test_a_lowercase_dns_label_is_a_good_site_name(slug):
    assert slug_problem(slug) is None


@pytest.mark.parametrize(
    ("slug", "because"),
    [
        ("ab", "3 to 63"),
        ("x" * 64, "3 to 63"),
        ("My-Site", "lowercase"),
        ("-site", "hyphen"),
        ("site-", "hyphen"),
        ("my_site", "lowercase"),
        ("my.site", "lowercase"),
        ("sïte", "lowercase"),
        ("xn--site", "two hyphens"),
        ("www", "reserved"),
        ("api", "reserved"),
        ("admin", "reserved"),
        ("static", "reserved"),
        ("studio", "reserved"),
        ("docs", "reserved"),
        ("preview", "reserved"),
        ("mail", "reserved"),
    ],
)
def test_a_site_name_outside_the_rules_is_refused_with_a_reason(slug, because):
    assert because in slug_problem(slug)
