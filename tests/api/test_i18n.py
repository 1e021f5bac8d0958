"""English and Chinese (api/i18n): what follows `Accept-Language`, what never does, the
catalogue held to the code both ways, and the caches that must never hand one reader's
language to another."""

import ast
import inspect
import re
from http import HTTPStatus
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

import api.main  # every router, so every error class, is imported
import api.stream
from api import cache, errors, i18n
from api.cache import FinalResponseCache, ResponseCache
from api.i18n.catalogue import LABELS, MESSAGES, PHRASES, STATUS_TITLES, TITLES
from api.services.rounds import WrongPhase
from models.case import CaseReview, CaseStatus
from models.progress import ProgressStatus, Side
from models.response import Rating, ReasonCode, ResponseKind
from models.round import Phase
from models.submission import Attribution, Decision, Kind, Status
from models.translation import TranslatedBy
from models.user import Role
from tests.api.test_privacy import scenario  # noqa: F401  (the fixture)
from tests.api.test_privacy import test_no_public_view_leaks_a_secret as privacy_sweep
from tests.api.test_rounds import cleanup_themes  # noqa: F401  (the fixture)
from tests.client import assert_problem, failing_app, submission_body

ROOT = Path(__file__).resolve().parents[2]
ZH = {"Accept-Language": "zh-Hans"}
EN = {"Accept-Language": "en"}
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
THEMES = "/api/v1/themes"
VOCABULARY = "/api/v1/vocabulary"

# Enum classes by the vocabulary name `GET /api/v1/vocabulary` gives them.
VOCABULARIES = {
    "submission_kind": Kind,
    "attribution": Attribution,
    "submission_status": Status,
    "moderation_decision": Decision,
    "case_status": CaseStatus,
    "case_review": CaseReview,
    "response_kind": ResponseKind,
    "translated_by": TranslatedBy,
    "reason_code": ReasonCode,
    "rating": Rating,
    "progress_status": ProgressStatus,
    "assessment_side": Side,
    "phase": Phase,
    "role": Role,
}


def vary(response: Any) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",")}


def assert_says(response: Any, language: str) -> None:
    assert response.headers["content-language"] == language
    assert "accept-language" in vary(response)


# --- negotiation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("en", "en"),
        ("en-GB", "en"),
        ("zh-Hans", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("zh-cn", "zh-Hans"),
        ("zh-Hans-CN", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("zh-Hans-HK", "zh-Hans"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("en;q=0.5, zh;q=0.8", "zh-Hans"),
        ("zh;q=0.5, en;q=0.5", "zh-Hans"),  # equal weights: the first named
        ("en;q=0.5, zh;q=0.5", "en"),
        ("en;q=0, zh", "zh-Hans"),
        ("zh;q=0", "en"),
        ("zh-TW", "en"),  # Traditional Chinese is not offered
        ("zh-Hant", "en"),
        ("zh-HK, zh-Hans;q=0.3", "zh-Hans"),
        ("fr", "en"),
        ("fr, de;q=0.8", "en"),
        ("*", "en"),
        ("fr, *;q=0.5", "en"),
        ("*;q=0.5, en;q=0", "zh-Hans"),
        ("zh;q=abc, en;q=0.2", "en"),  # a malformed weight: that item is passed over
        ("zh;q=1.5", "en"),
        (" zh ; q=0.8 , en ; q=0.7", "zh-Hans"),
        (";;,,=", "en"),
        ("zh-" * 200, "en"),  # longer than any browser sends
    ],
)
def test_the_language_is_negotiated_from_accept_language(header, language):
    assert i18n.negotiate(header) == language


def test_several_accept_language_lines_are_read_as_one():
    scope = {"headers": [(b"accept-language", b"fr"), (b"accept-language", b"zh;q=0.5")]}
    assert i18n.language_of(scope) == "zh-Hans"
    assert i18n.language_of({"headers": []}) == "en"


# --- the catalogue ------------------------------------------------------------------


def test_every_text_in_the_catalogue_is_in_both_languages():
    named = list(i18n.texts())
    sizes = [TITLES, STATUS_TITLES, MESSAGES, *PHRASES.values(), *LABELS.values()]
    assert len(named) == sum(map(len, sizes))  # the walk saw the whole catalogue
    for name, entry in named:
        assert set(entry) - {"translate"} == {"en", "zh-Hans"}, name
        en, zh = entry["en"], entry["zh-Hans"]
        assert en.strip() == en and en, name
        assert zh.strip() == zh and CJK.search(zh), f"{name}: {zh!r} is not Chinese"
        # a value put in the text goes in both, so neither can fail to format
        assert sorted(PLACEHOLDER.findall(en)) == sorted(PLACEHOLDER.findall(zh)), name
        for placeholder, vocabulary in entry.get("translate", {}).items():
            assert placeholder in PLACEHOLDER.findall(en), name
            assert vocabulary in LABELS or vocabulary in PHRASES, name
        # Chinese punctuation in Chinese text, outside quoted code
        plain = re.sub(r"`[^`]*`", "", zh)
        assert not re.search(r"[\u4e00-\u9fff][,;:?!]|[\u4e00-\u9fff]\.$", plain), name


def _error_classes() -> list[type[errors.ApiError]]:
    found, todo = [], [errors.ApiError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_problem_type_has_a_title_in_both_languages():
    classes = _error_classes()
    assert api.stream.TooManySubscribers in classes and WrongPhase in classes
    typed_per_instance = []
    for cls in classes:
        if "slug" not in vars(cls):
            typed_per_instance.append(cls)
            continue
        assert TITLES[cls.slug]["en"] == cls.title, cls.__name__
    assert typed_per_instance == [WrongPhase]  # a new one must be walked here too
    for phase in Phase:
        problem = WrongPhase(phase, "…")
        assert problem.type.endswith(f"wrong-phase:{phase.value}")
        with i18n.speaking("zh-Hans"):
            body, _ = i18n.localized_problem(
                {"type": problem.type, "title": problem.title, "status": problem.status}
            )
        assert body["title"] == TITLES["wrong-phase"]["zh-Hans"]
    # the types the handlers make for the framework's errors
    assert TITLES["validation"]["en"] == "The request is not valid"
    for slug in ("validation", "method-not-allowed", "internal-server-error", "not-found"):
        assert slug in TITLES
    # a problem typed only by its status phrase: every status Python names
    assert {s.value for s in HTTPStatus if s.value >= 400} <= set(STATUS_TITLES)


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_each_problem_class_renders_in_chinese_with_its_type_unchanged(cls):
    if cls is WrongPhase:
        problem: errors.ApiError = WrongPhase(Phase.concluded, "x")
    elif cls is errors.TooManyRequests:
        problem = cls(retry_after=3)
    else:
        problem = cls()
    for language, title in (("en", problem.title), ("zh-Hans", None)):
        with i18n.speaking(language):
            response = errors.problem_response(
                problem.status, type_=problem.type, title=problem.title
            )
        body = response.body.decode()
        assert f'"type":"{problem.type}"' in body
        assert response.headers["content-language"] == language
        assert response.headers["vary"] == "Accept-Language"
        if title is not None:
            assert f'"title":"{title}"' in body
        else:
            assert CJK.search(body), body


# The walk of the code: every text it can send a reader, found where it is written.

# where a message is passed on rather than written: what it passes is walked where written
PASSED_ON = {
    ("api/services/cases/access.py", "detail"),  # refuse(detail=...): its callers
    ("api/services/rounds.py", "str(exc)"),  # check_order's ValueErrors (models/round.py)
    ("api/search/query.py", "str(error)"),  # parse_query's QueryErrors (api/search/tokens.py)
    ("api/services/record.py", "str(error)"),  # the record's q: the same QueryErrors
    ("api/services/cases/sharing.py", "' '.join(parts)"),  # the sharing.* sentences
    ("api/errors.py", "detail"),
    ("api/errors.py", "exc.detail"),
    ("api/errors.py", "str(err.get('msg', 'invalid'))"),  # Pydantic's own wording
}
# written in the code, never sent to a reader
INTERNAL = {"naive datetime given to a UTC column"}  # a bug guard in a column type
# in the catalogue, written by the framework rather than by us
FRAMEWORK = {"body.parse_error"}


def _constants(trees: dict[str, ast.Module]) -> dict[str, str]:
    """Module-level string constants, by name (BAD_CREDENTIALS, NOT_TEXT, ...)."""
    out: dict[str, str] = {}
    for tree in trees.values():
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                out[node.targets[0].id] = node.value.value
    return out


def _text(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The text an expression writes, `{}` for each value put in it; None if it is not
    written there."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                parts.append("{}")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        # "Ambiguous...: " + "; ".join(names) + "."
        left, right = _text(node.left, constants), _text(node.right, constants)
        return (left if left is not None else "{}") + (right if right is not None else "{}")
    name = node.id if isinstance(node, ast.Name) else None
    name = node.attr if isinstance(node, ast.Attribute) else name
    if name is not None and name in constants:
        return constants[name]
    return None


def _sent_texts() -> tuple[set[str], set[str], set[tuple[str, str]]]:
    """(messages, phase actions, what is passed on) in api/ and models/."""
    trees = {
        str(path.relative_to(ROOT)): ast.parse(path.read_text())
        for folder in ("api", "models")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "i18n" not in path.parts  # the catalogue's own code passes every message on
        # the pages answer an error with a page of their own (api/pages/i18n.py), never a detail
        and "pages" not in path.parts
    }
    constants = _constants(trees)
    families = {cls.__name__ for cls in _error_classes()}
    # calls whose `detail` is a problem's (an audit entry's `detail` is a record, not text)
    with_detail = families | {"refuse", "problem_response", "send_problem", "__init__"}
    messages: set[str] = set()
    actions: set[str] = set()
    passed: set[tuple[str, str]] = set()

    def take(where: str, node: ast.expr, into: set[str]) -> None:
        text = _text(node, constants)
        if text is None:
            passed.add((where, ast.unparse(node)))
        else:
            into.add(text)

    for where, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                callee = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                keywords = {k.arg: k.value for k in node.keywords}
                if callee in families:
                    args = node.args[1:] if callee == "WrongPhase" else node.args
                    if args:
                        take(where, args[0], messages)
                if "detail" in keywords and callee in with_detail:
                    take(where, keywords["detail"], messages)
                if "action" in keywords and callee == "require_phase":
                    take(where, keywords["action"], actions)
                if callee == "ValueError" and where.startswith("models/") and node.args:
                    take(where, node.args[0], messages)
                if callee == "QueryError" and node.args:  # passed on by api/search/query.py
                    take(where, node.args[0], messages)
            elif isinstance(node, ast.Assign) and [
                getattr(target, "id", None) for target in node.targets
            ] == ["detail"]:
                text = _text(node.value, constants)  # else passed on, seen where it is
                if text is not None:
                    messages.add(text)
            elif isinstance(node, ast.Dict):  # a validation issue written by hand
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "msg":
                        take(where, value, messages)
    # a detail joined from sentences: the sentences appended where it is joined
    for where, expression in passed:
        if expression.endswith(".join(parts)"):
            for node in ast.walk(trees[where]):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "append"
                    and getattr(node.func.value, "id", None) == "parts"
                ):
                    take(where, node.args[0], messages)
    return messages - INTERNAL, actions, passed


def _template(en: str) -> str:
    return PLACEHOLDER.sub("{}", en)


def test_every_message_the_code_sends_is_in_the_catalogue_and_every_entry_is_sent():
    sent, actions, passed = _sent_texts()
    assert "No such round." in sent and "Unknown themes: {}." in sent  # the walk works
    assert passed == PASSED_ON, "a message passed on from elsewhere: walk it where written"
    catalogued = {_template(entry["en"]): key for key, entry in MESSAGES.items()}
    missing = sorted(sent - set(catalogued))
    assert not missing, f"not in api/i18n/catalogue.py: {missing}"
    unused = {key for template, key in catalogued.items() if template not in sent}
    # the sharing sentences are found one by one, and sent one or both together
    both = MESSAGES["sharing.unknown_and_ambiguous"]["en"]
    assert both == f"{MESSAGES['sharing.unknown']['en']} {MESSAGES['sharing.ambiguous']['en']}"
    assert unused == FRAMEWORK | {"sharing.unknown_and_ambiguous"}, f"never sent: {unused}"
    assert MESSAGES["body.parse_error"]["en"] in inspect.getsource(fastapi.routing)
    assert {phrase["en"] for phrase in PHRASES["action"].values()} == actions


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("No such round.", "该轮对话不存在。"),
        ("Unknown themes: tibet, xinjiang.", "以下议题不存在：tibet, xinjiang。"),
        (
            "The round is upcoming: submitting is not possible now.",
            "本轮对话目前处于“尚未开始”阶段，现在不能提交。",
        ),
        (
            "Only a pending submission can be edited; this one is published.",
            "只有待审核的提交材料可以修改；这份材料的状态是“已发布”。",
        ),
        ("This case was removed already.", "该个案已经审核过，结果为“已由审核员撤下”。"),
        ("Your role may not do this (moderate).", "您的角色无权进行此操作（moderate）。"),
        ("No such delegation: XX.", "以下代表团不存在：XX。"),
        (
            "Ambiguous, name one as dialogue-slug/CODE: CN (a/CN, b/CN).",
            "以下名称有歧义，请以 dialogue-slug/CODE 的形式指明：CN (a/CN, b/CN)。",
        ),
        (
            "No such delegation: XX. Ambiguous, name one as dialogue-slug/CODE: CN (a/CN, b/CN).",
            "以下代表团不存在：XX。以下名称有歧义，请以 dialogue-slug/CODE 的形式指明："
            "CN (a/CN, b/CN)。",
        ),
        ("A message no one catalogued.", "A message no one catalogued."),
    ],
)
def test_messages_are_translated_with_their_values(english, chinese):
    assert i18n.message(english, "zh-Hans") == chinese
    assert i18n.message(english, "en") == english


# --- problems over HTTP -------------------------------------------------------------


def test_a_problem_follows_the_language_and_keeps_its_type_and_fields(client):
    missing = "/api/v1/rounds/00000000-0000-0000-0000-000000000000"
    english = client.get(missing)
    chinese = client.get(missing, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    en, zh = assert_problem(english, 404), assert_problem(chinese, 404)
    assert (en["title"], en["detail"]) == ("Not found", "No such round.")
    assert (zh["title"], zh["detail"]) == ("未找到", "该轮对话不存在。")
    assert list(zh) == list(en) and zh["type"] == en["type"] and zh["status"] == 404
    assert_says(english, "en")
    assert_says(chinese, "zh-Hans")


def test_a_wrong_phase_problem_names_the_phase_in_chinese_and_keeps_its_value(client, make, driver):
    rnd = make.round(phase=Phase.upcoming)
    author = make.user(Role.activist)
    r = client.post(
        f"/api/v1/rounds/{rnd.id}/submissions",
        json=submission_body(),
        headers={**make.headers(author), **ZH},
    )
    body = assert_problem(r, 409)
    assert body["type"] == "urn:civic-input:problem:wrong-phase:upcoming"
    assert body["phase"] == "upcoming"  # an extension's value is data, never translated
    assert body["title"] == "本轮对话当前所处的阶段不允许此操作"
    assert body["detail"] == "本轮对话目前处于“尚未开始”阶段，现在不能提交。"
    assert_says(r, "zh-Hans")


def test_an_unknown_theme_is_named_as_given_in_a_chinese_detail(client, make):
    rnd = make.round(phase=Phase.accepting_submissions)
    author = make.user(Role.activist)
    r = client.post(
        f"/api/v1/rounds/{rnd.id}/submissions",
        json=submission_body(themes=["no-such-theme"]),
        headers={**make.headers(author), **ZH},
    )
    body = assert_problem(r, 422)
    assert body["detail"] == "以下议题不存在：no-such-theme。"
    assert body["unknown_themes"] == ["no-such-theme"]


def test_validation_translates_our_messages_and_keeps_fields_and_pydantics_own(client):
    body = {"handle": "ab", "password": "1q2w3e4r5t6y7u8i9o0p", "extra": 1}
    en = assert_problem(client.post("/api/v1/auth/register", json=body), 422)
    r = client.post("/api/v1/auth/register", json=body, headers=ZH)
    zh = assert_problem(r, 422)
    assert_says(r, "zh-Hans")
    assert zh["title"] == "请求内容不符合要求"
    assert zh["detail"] == "未通过校验的各个字段见 `errors`。"
    assert [(i["loc"], i["type"]) for i in zh["errors"]] == [
        (i["loc"], i["type"]) for i in en["errors"]
    ]
    by_field = {tuple(i["loc"]): i["msg"] for i in zh["errors"]}
    # the common-password message is ours; Pydantic's own wording stays as it is
    assert by_field[("body", "password")].startswith("该密码属于常见密码，请另选一个至少 15 个字符")
    english = {tuple(i["loc"]): i["msg"] for i in en["errors"]}
    assert english[("body", "password")].startswith("Value error, this password is on a list")
    assert by_field[("body", "handle")] == english[("body", "handle")]
    assert by_field[("body", "extra")] == english[("body", "extra")]


def test_problems_from_the_outer_layers_follow_the_language_too(client):
    # a body too large (BodyLimit), text that is not Unicode (TextGuard), a 405 (routing)
    too_large = client.post(
        "/api/v1/auth/register",
        content=b"x" * (2 * 1024 * 1024),
        headers={**ZH, "Content-Type": "application/json"},
    )
    body = assert_problem(too_large, 413)
    assert body["title"] == "请求体过大" and body["detail"] == "请求体不得超过 1048576 字节。"
    assert_says(too_large, "zh-Hans")
    not_text = client.get("/api/v1/rounds/%ff", headers=ZH)
    issue = assert_problem(not_text, 422)["errors"][0]
    assert issue["loc"] == ["path"] and issue["type"] == "string_unicode"
    assert issue["msg"].startswith("文本必须是有效的 Unicode（UTF-8）")
    wrong_method = client.delete("/healthz", headers=ZH)
    body = assert_problem(wrong_method, 405)
    assert body["type"].endswith(":method-not-allowed") and body["title"] == "不支持该请求方法"
    assert_says(wrong_method, "zh-Hans")


def test_an_unexpected_error_answers_in_the_language_too(settings):
    with TestClient(failing_app(settings), raise_server_exceptions=False) as failing:
        r = failing.get("/api/v1/boom", headers=ZH)
    assert r.status_code == 500 and r.json()["title"] == "服务器内部错误"
    assert "secret-internal-detail" not in r.text
    assert_says(r, "zh-Hans")


# --- themes and labels --------------------------------------------------------------


def test_theme_names_follow_the_language(client):
    english, chinese = client.get(THEMES), client.get(THEMES, headers={"Accept-Language": "zh"})
    assert english.status_code == chinese.status_code == 200
    assert_says(english, "en")
    assert_says(chinese, "zh-Hans")
    en = {t["slug"]: t for t in english.json()["items"]}
    zh = {t["slug"]: t for t in chinese.json()["items"]}
    assert en["rule-of-law"]["name"] == "Rule of law" and zh["rule-of-law"]["name"] == "法治"
    assert en.keys() == zh.keys()
    assert all(en[slug]["names"] == zh[slug]["names"] for slug in en)  # every name, as stored
    # a different body, so a different ETag: a Chinese list never revalidates an English one
    assert english.headers["etag"] != chinese.headers["etag"]
    again = client.get(THEMES, headers={**ZH, "If-None-Match": english.headers["etag"]})
    assert again.status_code == 200 and again.json() == chinese.json()
    unchanged = client.get(THEMES, headers={**ZH, "If-None-Match": chinese.headers["etag"]})
    assert unchanged.status_code == 304 and "accept-language" in vary(unchanged)


def test_several_accept_language_lines_give_one_language_to_the_answer_and_the_cache(client):
    lines = [("Accept-Language", "fr"), ("Accept-Language", "zh;q=0.5")]
    for _ in range(2):  # computed, then a hit
        r = client.get(THEMES, headers=lines)
        assert_says(r, "zh-Hans")
        assert {t["slug"]: t["name"] for t in r.json()["items"]}["rule-of-law"] == "法治"
    assert client.get(THEMES, headers=ZH).content == r.content


def test_a_theme_without_a_name_in_the_language_is_named_in_english(
    client,
    make,
    cleanup_themes,  # noqa: F811
):
    admin = make.headers(make.user(Role.admin))
    r = client.post(
        THEMES, json={"slug": "i18n-test-only-en", "names": {"en": "Press freedom"}}, headers=admin
    )
    assert r.status_code == 201 and r.json()["name"] == "Press freedom"
    r = client.post(
        THEMES,
        json={"slug": "i18n-test-zh-cn", "names": {"en": "Land rights", "zh-cn": "土地权利"}},
        headers={**admin, **ZH},
    )
    assert r.status_code == 201 and r.json()["name"] == "土地权利"  # stored as zh-CN
    assert_says(r, "zh-Hans")
    zh = {t["slug"]: t["name"] for t in client.get(THEMES, headers=ZH).json()["items"]}
    assert zh["i18n-test-only-en"] == "Press freedom" and zh["i18n-test-zh-cn"] == "土地权利"


def test_the_vocabulary_labels_every_enum_value_in_both_languages(client):
    english, chinese = client.get(VOCABULARY), client.get(VOCABULARY, headers=ZH)
    assert_says(english, "en")
    assert_says(chinese, "zh-Hans")
    en, zh = english.json(), chinese.json()
    assert (en["language"], zh["language"]) == ("en", "zh-Hans")
    assert english.headers["etag"] != chinese.headers["etag"]
    for name, enum in VOCABULARIES.items():
        values = [member.value for member in enum]
        assert list(en["labels"][name]) == values == list(zh["labels"][name]), name
    assert set(en["labels"]) == set(VOCABULARIES)
    assert zh["labels"]["case_status"]["disappeared"] == "被失踪"
    assert en["labels"]["case_status"]["disappeared"] == "Disappeared"


def test_the_vocabulary_is_in_the_openapi_document_with_the_header(client):
    operation = client.get("/openapi.json").json()["paths"][VOCABULARY]["get"]
    headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
    assert headers == ["Accept-Language", "If-None-Match"]


# --- the caches ---------------------------------------------------------------------


def test_the_app_never_serves_a_cached_answer_in_another_language(client, app):
    # each read twice, so a second read is a hit wherever the cache would hit
    for _ in range(2):
        assert client.get(THEMES).json()["items"][0]["name"] == "Arbitrary detention"
        assert client.get(THEMES, headers=ZH).json()["items"][0]["name"] == "任意拘留"
        r = client.get(THEMES, headers={"Accept-Language": "zh-CN"})
        assert r.json()["items"][0]["name"] == "任意拘留"
        assert_says(r, "zh-Hans")
        r = client.get(THEMES, headers={"Accept-Language": "fr"})
        assert r.json()["items"][0]["name"] == "Arbitrary detention"
        assert_says(r, "en")
    front = app.front  # the front door, before Starlette's own middleware
    assert isinstance(front, FinalResponseCache)
    assert {(THEMES, b""), ("zh-Hans " + THEMES, b"")} <= set(front.entries)


class Counting:
    """An app that answers JSON in the request's language and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        language = i18n.language_of(scope)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-language", language.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b'{"n": %d}' % self.calls})


@pytest.mark.parametrize("layer", [FinalResponseCache, ResponseCache])
def test_each_cache_layer_keys_its_entries_by_the_negotiated_language(layer):
    inner = Counting()
    cached = TestClient(layer(inner, ttl=60))
    cache.bump()
    english = cached.get("/api/v1/themes")
    chinese = cached.get("/api/v1/themes", headers=ZH)
    assert inner.calls == 2 and english.content != chinese.content
    # hits, each in its own language; ranges that negotiate alike share an entry
    assert cached.get("/api/v1/themes", headers={"Accept-Language": "zh-CN"}).content == (
        chinese.content
    )
    assert cached.get("/api/v1/themes", headers={"Accept-Language": "de"}).content == (
        english.content
    )
    assert cached.get("/api/v1/themes").headers["content-language"] == "en"
    assert inner.calls == 2


# --- privacy ------------------------------------------------------------------------


def test_the_privacy_sweep_holds_in_chinese(client, scenario):  # noqa: F811
    client.headers["Accept-Language"] = "zh-Hans"
    r = client.get("/api/v1/rounds/00000000-0000-0000-0000-000000000000")
    assert r.json()["title"] == "未找到"  # the sweep below reads in Chinese
    privacy_sweep(client, scenario)
