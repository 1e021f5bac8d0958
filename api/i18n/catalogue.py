"""The message catalogue: every text the API authors for a reader, in English and Chinese.

Plain data, to be read and corrected by translators as much as by programmers. Each
entry has the English text (`en`, exactly as the code writes it) and its Simplified
Chinese (`zh-Hans`). English answers are the code's own text: the `en` column is the
reference a translation is checked against, and tests/api/test_i18n.py holds it to the
code (every message the code can send has an entry, and each entry is still sent).

- `TITLES`: a problem's `title`, by the slug of its `type` (`urn:civic-input:problem:<slug>`;
  a `wrong-phase:<phase>` type is looked up as `wrong-phase`).
- `STATUS_TITLES`: the title of a problem with no type of its own (FastAPI's or
  Starlette's errors, whose type is made from the status phrase), by status.
- `MESSAGES`: a problem's `detail`, and the `msg` of a validation issue that the code
  wrote (not Pydantic's own wording), by message id. `{name}` stands for a value put in
  the text (a slug, a code, a count); `translate` names the list (`LABELS` or `PHRASES`)
  through which such a value is itself translated, e.g. a round's phase.
- `LABELS`: the readable label of each value of the API's enums, by vocabulary name;
  `GET /api/v1/vocabulary` serves them.
- `PHRASES`: words the code puts inside a message (what could not be done).

Field names, enum values, header names and problem `type` URIs are never translated;
where a message quotes one (in backticks, or a header such as If-Match), it stays as is.
"""

from typing import Any

Text = dict[str, str]

TITLES: dict[str, Text] = {
    "internal": {"en": "Internal error", "zh-Hans": "服务器内部错误"},
    "bad-request": {"en": "Bad request", "zh-Hans": "请求有误"},
    "unauthorized": {"en": "Not authenticated", "zh-Hans": "未通过身份验证"},
    "forbidden": {"en": "Not allowed", "zh-Hans": "无权进行此操作"},
    "not-found": {"en": "Not found", "zh-Hans": "未找到"},
    "conflict": {"en": "Conflict", "zh-Hans": "与现有数据冲突"},
    "gone": {"en": "No longer valid", "zh-Hans": "已失效"},
    "precondition-failed": {
        "en": "The resource changed since you read it",
        "zh-Hans": "该资源在您读取之后已被修改",
    },
    "payload-too-large": {"en": "Request body too large", "zh-Hans": "请求体过大"},
    "unprocessable": {"en": "The request cannot be processed", "zh-Hans": "无法处理该请求"},
    "precondition-required": {"en": "If-Match is required", "zh-Hans": "必须提供 If-Match"},
    "too-many-requests": {"en": "Too many requests", "zh-Hans": "请求过于频繁"},
    "busy": {
        "en": "The service is busy; try again shortly",
        "zh-Hans": "服务繁忙，请稍后重试",
    },
    "unavailable": {
        "en": "The database is not answering; try again shortly",
        "zh-Hans": "数据库暂时无响应，请稍后重试",
    },
    "too-many-subscribers": {
        "en": "This server has as many live-feed subscribers as it takes",
        "zh-Hans": "本服务器的实时推送订阅数已满",
    },
    "wrong-phase": {
        "en": "The round is not in the phase this needs",
        "zh-Hans": "本轮对话当前所处的阶段不允许此操作",
    },
    "validation": {"en": "The request is not valid", "zh-Hans": "请求内容不符合要求"},
    "internal-server-error": {"en": "Internal error", "zh-Hans": "服务器内部错误"},
    "method-not-allowed": {"en": "Method Not Allowed", "zh-Hans": "不支持该请求方法"},
}

# Every 4xx and 5xx status Python names, for problems typed only by their status phrase.
STATUS_TITLES: dict[int, Text] = {
    400: {"en": "Bad Request", "zh-Hans": "请求有误"},
    401: {"en": "Unauthorized", "zh-Hans": "未通过身份验证"},
    402: {"en": "Payment Required", "zh-Hans": "需要付费"},
    403: {"en": "Forbidden", "zh-Hans": "禁止访问"},
    404: {"en": "Not Found", "zh-Hans": "未找到"},
    405: {"en": "Method Not Allowed", "zh-Hans": "不支持该请求方法"},
    406: {"en": "Not Acceptable", "zh-Hans": "无法提供可接受的格式"},
    407: {"en": "Proxy Authentication Required", "zh-Hans": "需要代理身份验证"},
    408: {"en": "Request Timeout", "zh-Hans": "请求超时"},
    409: {"en": "Conflict", "zh-Hans": "与现有数据冲突"},
    410: {"en": "Gone", "zh-Hans": "已不存在"},
    411: {"en": "Length Required", "zh-Hans": "必须提供 Content-Length"},
    412: {"en": "Precondition Failed", "zh-Hans": "前提条件不成立"},
    413: {"en": "Content Too Large", "zh-Hans": "请求体过大"},
    414: {"en": "URI Too Long", "zh-Hans": "请求地址过长"},
    415: {"en": "Unsupported Media Type", "zh-Hans": "不支持该媒体类型"},
    416: {"en": "Range Not Satisfiable", "zh-Hans": "请求的范围无法满足"},
    417: {"en": "Expectation Failed", "zh-Hans": "无法满足 Expect 请求头的要求"},
    418: {"en": "I'm a Teapot", "zh-Hans": "我是一个茶壶"},
    421: {"en": "Misdirected Request", "zh-Hans": "请求被发往错误的服务器"},
    422: {"en": "Unprocessable Content", "zh-Hans": "无法处理该请求"},
    423: {"en": "Locked", "zh-Hans": "资源已被锁定"},
    424: {"en": "Failed Dependency", "zh-Hans": "所依赖的请求失败"},
    425: {"en": "Too Early", "zh-Hans": "请求过早"},
    426: {"en": "Upgrade Required", "zh-Hans": "需要升级协议"},
    428: {"en": "Precondition Required", "zh-Hans": "必须提供前提条件"},
    429: {"en": "Too Many Requests", "zh-Hans": "请求过于频繁"},
    431: {"en": "Request Header Fields Too Large", "zh-Hans": "请求头过大"},
    451: {"en": "Unavailable For Legal Reasons", "zh-Hans": "因法律原因无法提供"},
    500: {"en": "Internal Server Error", "zh-Hans": "服务器内部错误"},
    501: {"en": "Not Implemented", "zh-Hans": "尚未实现"},
    502: {"en": "Bad Gateway", "zh-Hans": "网关错误"},
    503: {"en": "Service Unavailable", "zh-Hans": "服务暂时不可用"},
    504: {"en": "Gateway Timeout", "zh-Hans": "网关超时"},
    505: {"en": "HTTP Version Not Supported", "zh-Hans": "不支持该 HTTP 版本"},
    506: {"en": "Variant Also Negotiates", "zh-Hans": "内容协商配置有误"},
    507: {"en": "Insufficient Storage", "zh-Hans": "存储空间不足"},
    508: {"en": "Loop Detected", "zh-Hans": "检测到循环"},
    510: {"en": "Not Extended", "zh-Hans": "缺少必要的扩展"},
    511: {"en": "Network Authentication Required", "zh-Hans": "需要网络身份验证"},
}

MESSAGES: dict[str, dict[str, Any]] = {
    # --- the error family's own (api/errors.py, api/text.py, api/middleware.py)
    "address.nothing": {
        "en": "There is nothing at this address.",
        "zh-Hans": "此地址下没有任何内容。",
    },
    "stored.conflict": {
        "en": "This conflicts with something already stored.",
        "zh-Hans": "与已存储的内容相冲突。",
    },
    "value.unstorable": {
        "en": "A value in the request cannot be stored or searched for.",
        "zh-Hans": "请求中的某个值无法存储或用于搜索。",
    },
    "validation.see_errors": {
        "en": "See `errors` for each field that failed.",
        "zh-Hans": "未通过校验的各个字段见 `errors`。",
    },
    "body.not_json_text": {
        "en": "The body is not UTF-8 JSON.",
        "zh-Hans": "请求体不是 UTF-8 编码的 JSON。",
    },
    "body.parse_error": {
        "en": "There was an error parsing the body",
        "zh-Hans": "解析请求体时出错",
    },
    "body.too_large": {
        "en": "Request bodies are limited to {limit} bytes.",
        "zh-Hans": "请求体不得超过 {limit} 字节。",
    },
    "method.not_allowed": {
        "en": "This address answers {methods}.",
        "zh-Hans": "此地址只接受以下请求方法：{methods}。",
    },
    "field.required": {"en": "Field required", "zh-Hans": "缺少必填字段"},
    "instant.strict": {
        "en": "an instant is a string with a date, a time and a zone, "
        "e.g. 2026-03-01T09:00:00Z or 2026-03-01T17:00:00+08:00",
        "zh-Hans": "时间须为包含日期、时刻和时区的字符串，"
        "例如 2026-03-01T09:00:00Z 或 2026-03-01T17:00:00+08:00",
    },
    "grant.unsupported": {
        "en": "grant_type must be password or refresh_token.",
        "zh-Hans": "grant_type 只能是 password 或 refresh_token。",
    },
    "scope.none_granted": {
        "en": "No scopes are granted, so a refresh may ask for none.",
        "zh-Hans": "本服务不授予任何权限范围，刷新时不得申请权限范围。",
    },
    "text.not_unicode": {
        "en": "Text must be valid Unicode (UTF-8), without lone surrogates or NUL characters.",
        "zh-Hans": "文本必须是有效的 Unicode（UTF-8），且不得含有孤立代理项或 NUL 字符。",
    },
    "text.nul": {
        "en": "text must not contain NUL characters",
        "zh-Hans": "文本不得含有 NUL 字符",
    },
    "text.control": {
        "en": "text must not contain control characters",
        "zh-Hans": "文本不得含有控制字符",
    },
    "text.single_line": {"en": "must be a single line", "zh-Hans": "必须是单行文本"},
    "language.tag": {
        "en": "not a BCP 47 language tag (e.g. en, zh-Hans, zh-Hant-TW)",
        "zh-Hans": "不是有效的 BCP 47 语言标签（例如 en、zh-Hans、zh-Hant-TW）",
    },
    # --- the database and the live feed
    "database.busy": {
        "en": "The database is busy; try again shortly.",
        "zh-Hans": "数据库繁忙，请稍后重试。",
    },
    "database.silent": {"en": "The database is not answering.", "zh-Hans": "数据库无响应。"},
    "stream.full": {
        "en": "At most {count} live-feed subscribers per server; "
        "poll GET /api/v1/feed or try again later.",
        "zh-Hans": "每台服务器最多接受 {count} 个实时推送订阅；"
        "请改用 GET /api/v1/feed 轮询，或稍后再试。",
    },
    "stream.last_event_id": {
        "en": "Last-Event-ID must be an entry's seq.",
        "zh-Hans": "Last-Event-ID 必须是某个条目的 seq。",
    },
    "cursor.invalid": {
        "en": "The cursor is not valid; start again without one.",
        "zh-Hans": "游标无效，请不带游标从头开始。",
    },
    "search.no_terms": {
        "en": "The query has no letters or digits to search for.",
        "zh-Hans": "查询中没有可供搜索的文字或数字。",
    },
    "search.too_many_terms": {
        "en": "The query has more than {limit} words or phrases.",
        "zh-Hans": "查询中的词语或短语不得超过 {limit} 个。",
    },
    # --- accounts, tokens, invitations
    "token.invalid": {"en": "The access token is not valid.", "zh-Hans": "访问令牌无效。"},
    "token.stale": {
        "en": "The access token is no longer valid.",
        "zh-Hans": "访问令牌已失效。",
    },
    "token.missing": {
        "en": "Sign in first: send `Authorization: Bearer <access token>`.",
        "zh-Hans": "请先登录：在请求中附上 `Authorization: Bearer <访问令牌>`。",
    },
    "role.not_permitted": {
        "en": "Your role may not do this ({permission}).",
        "zh-Hans": "您的角色无权进行此操作（{permission}）。",
    },
    "sign_in.bad_credentials": {
        "en": "Unknown handle or wrong password.",
        "zh-Hans": "用户名不存在或密码错误。",
    },
    "sign_in.throttled": {
        "en": "Too many sign-in attempts; wait and try again.",
        "zh-Hans": "登录尝试次数过多，请稍候再试。",
    },
    "refresh.reused": {
        "en": "This refresh token was already used; every token of its session is revoked.",
        "zh-Hans": "此刷新令牌已被使用过；该会话的所有令牌均已作废。",
    },
    "refresh.invalid": {"en": "The refresh token is not valid.", "zh-Hans": "刷新令牌无效。"},
    "refresh.expired": {
        "en": "The refresh token has expired; sign in again.",
        "zh-Hans": "刷新令牌已过期，请重新登录。",
    },
    "handle.taken": {"en": "This handle is taken.", "zh-Hans": "该用户名已被占用。"},
    "password.common": {
        "en": "this password is on a list of common passwords; choose another of at least "
        "{minimum} characters (a few unrelated words work well)",
        "zh-Hans": "该密码属于常见密码，请另选一个至少 {minimum} 个字符的密码"
        "（将几个互不相关的词连在一起效果很好）",
    },
    "user.not_found": {"en": "No such user.", "zh-Hans": "该用户不存在。"},
    "invitation.roles": {
        "en": "Only officials and moderators are invited.",
        "zh-Hans": "只能邀请官员和审核员。",
    },
    "invitation.delegation_needed": {
        "en": "An official's invitation names the delegation they answer for.",
        "zh-Hans": "邀请官员时须写明其代表的代表团。",
    },
    "invitation.delegation_for_officials": {
        "en": "Only officials belong to a delegation.",
        "zh-Hans": "只有官员才隶属于代表团。",
    },
    "invitation.not_found": {"en": "No such invitation.", "zh-Hans": "该邀请不存在。"},
    "invitation.used": {
        "en": "This invitation was already used.",
        "zh-Hans": "该邀请已被使用。",
    },
    "invitation.expired": {
        "en": "This invitation has expired; ask for a new one.",
        "zh-Hans": "该邀请已过期，请索取新的邀请。",
    },
    "idempotency.erased": {
        "en": "What this Idempotency-Key made was withdrawn or removed, and its text erased.",
        "zh-Hans": "此 Idempotency-Key 所创建的内容已被撤回或撤下，其文本已被清除。",
    },
    "idempotency.other_body": {
        "en": "This Idempotency-Key was used with a different request body.",
        "zh-Hans": "此 Idempotency-Key 已用于另一个内容不同的请求体。",
    },
    # --- dialogues, delegations, rounds, themes
    "dialogue.not_found": {
        "en": "No dialogue with this slug.",
        "zh-Hans": "没有使用此标识的对话。",
    },
    "dialogue.slug_taken": {
        "en": "A dialogue with this slug exists.",
        "zh-Hans": "已有使用此标识的对话。",
    },
    "delegation.not_found": {"en": "No such delegation.", "zh-Hans": "该代表团不存在。"},
    "delegation.exists": {
        "en": "This dialogue already has a delegation {code}.",
        "zh-Hans": "该对话已有代码为 {code} 的代表团。",
    },
    "delegation.not_in_dialogue": {
        "en": "Not a delegation of this dialogue: {codes}.",
        "zh-Hans": "以下代表团不属于该对话：{codes}。",
    },
    "round.not_found": {"en": "No such round.", "zh-Hans": "该轮对话不存在。"},
    "round.exists": {
        "en": "This dialogue already has a round {number}.",
        "zh-Hans": "该对话已有第 {number} 轮。",
    },
    "round.if_match": {
        "en": "Send If-Match with the round's ETag (from GET).",
        "zh-Hans": "请在 If-Match 中附上该轮对话的 ETag（通过 GET 获取）。",
    },
    "round.changed": {
        "en": "The round changed since you read it; GET it again.",
        "zh-Hans": "该轮对话在您读取之后已被修改，请用 GET 重新读取。",
    },
    "round.wrong_phase": {
        "en": "The round is {phase}: {action} is not possible now.",
        "zh-Hans": "本轮对话目前处于“{phase}”阶段，现在不能{action}。",
        "translate": {"phase": "phase", "action": "action"},
    },
    "round.open_before_close": {
        "en": "submissions_open_at must be before submissions_close_at",
        "zh-Hans": "submissions_open_at 必须早于 submissions_close_at",
    },
    "round.close_before_start": {
        "en": "submissions_close_at must not be after starts_at",
        "zh-Hans": "submissions_close_at 不得晚于 starts_at",
    },
    "round.start_before_end": {
        "en": "starts_at must not be after ends_at",
        "zh-Hans": "starts_at 不得晚于 ends_at",
    },
    "round.end_before_due": {
        "en": "ends_at must not be after responses_due_at",
        "zh-Hans": "ends_at 不得晚于 responses_due_at",
    },
    "theme.slug_taken": {
        "en": "A theme with this slug exists.",
        "zh-Hans": "已有使用此标识的议题。",
    },
    "theme.unknown": {"en": "Unknown themes: {slugs}.", "zh-Hans": "以下议题不存在：{slugs}。"},
    # --- submissions, endorsements, moderation
    "submission.not_found": {"en": "No such submission.", "zh-Hans": "该提交材料不存在。"},
    "submission.not_pending": {
        "en": "Only a pending submission can be edited; this one is {status}.",
        "zh-Hans": "只有待审核的提交材料可以修改；这份材料的状态是“{status}”。",
        "translate": {"status": "submission_status"},
    },
    "submission.decision": {
        "en": "A {status} submission cannot be given `{decision}`.",
        "zh-Hans": "不能对状态为“{status}”的提交材料作出 `{decision}` 决定。",
        "translate": {"status": "submission_status"},
    },
    "submission.case_only": {
        "en": "only a submission of kind `case` points at a case",
        "zh-Hans": "只有 kind 为 `case` 的提交材料才能关联个案",
    },
    "submission.organisation_needed": {
        "en": "attribution `organisation` needs the organisation's name",
        "zh-Hans": "attribution 为 `organisation` 时须填写组织名称",
    },
    "submission.organisation_only": {
        "en": "`organisation` is only for attribution `organisation`",
        "zh-Hans": "只有 attribution 为 `organisation` 时才能填写 `organisation`",
    },
    "moderation.reason_needed": {
        "en": "a reason is required to reject or remove",
        "zh-Hans": "驳回或撤下时必须说明理由",
    },
    "endorsement.own": {
        "en": "Authors cannot endorse their own submission.",
        "zh-Hans": "作者不能联署自己的提交材料。",
    },
    "endorsement.twice": {
        "en": "You have endorsed this submission already.",
        "zh-Hans": "您已联署过这份提交材料。",
    },
    "endorsement.none": {
        "en": "You have not endorsed this submission.",
        "zh-Hans": "您尚未联署这份提交材料。",
    },
    # --- cases
    "case.not_found": {"en": "No such case.", "zh-Hans": "该个案不存在。"},
    "case.cases_not_found": {
        "en": "No such cases: {ids}.",
        "zh-Hans": "以下个案不存在：{ids}。",
    },
    "case.remove_published_only": {
        "en": "Only a published case can be removed.",
        "zh-Hans": "只有已发布的个案才能撤下。",
    },
    "case.reviewed": {
        "en": "This case was {review} already.",
        "zh-Hans": "该个案已经审核过，结果为“{review}”。",
        "translate": {"review": "case_review"},
    },
    "case.remove_reason": {
        "en": "a reason is required to remove a case",
        "zh-Hans": "撤下个案时必须说明理由",
    },
    "case.consent_recorder": {
        "en": "Naming consent is its recorder's to give; a moderator may only withdraw it.",
        "zh-Hans": "是否同意公开姓名由个案记录人决定；审核员只能撤回这一同意。",
    },
    "case.consent_who": {
        "en": "Only the case's recorder (or, to withdraw it, a moderator) changes naming consent.",
        "zh-Hans": "只有个案记录人可以更改是否同意公开姓名（审核员只能撤回同意）。",
    },
    "case.access_log_who": {
        "en": "Only the case's recorder and moderators read its access log.",
        "zh-Hans": "只有个案记录人和审核员可以查看其访问记录。",
    },
    "case.sharing_who_sees": {
        "en": "Only the case's recorder and moderators see whom it is shared with.",
        "zh-Hans": "只有个案记录人和审核员可以查看该个案与哪些代表团共享。",
    },
    "case.sharing_who_chooses": {
        "en": "Only the activist who recorded the case chooses whom it is shared with.",
        "zh-Hans": "只有记录该个案的活动人士可以决定与哪些代表团共享。",
    },
    # Sharing names every delegation it cannot place, in one sentence or two.
    "sharing.unknown_and_ambiguous": {
        "en": "No such delegation: {codes}. Ambiguous, name one as dialogue-slug/CODE: {choices}.",
        "zh-Hans": "以下代表团不存在：{codes}。"
        "以下名称有歧义，请以 dialogue-slug/CODE 的形式指明：{choices}。",
    },
    "sharing.unknown": {
        "en": "No such delegation: {codes}.",
        "zh-Hans": "以下代表团不存在：{codes}。",
    },
    "sharing.ambiguous": {
        "en": "Ambiguous, name one as dialogue-slug/CODE: {choices}.",
        "zh-Hans": "以下名称有歧义，请以 dialogue-slug/CODE 的形式指明：{choices}。",
    },
    # --- responses and assessments
    "response.not_found": {"en": "No such response.", "zh-Hans": "该回应不存在。"},
    "response.held_unrated": {
        "en": "The response is held for a joint release: assess it once it is public.",
        "zh-Hans": "该回应正等待统一发布：请在其公开后再作评价。",
    },
    "translation.response_held": {
        "en": "The response is held for a joint release: translate it once it is public.",
        "zh-Hans": "该回应正等待统一发布：请在其公开后再翻译。",
    },
    "release.no_delegation": {
        "en": "No delegation with this code in the round's dialogue.",
        "zh-Hans": "该轮对话中没有使用此代码的代表团。",
    },
    "release.own_delegation": {
        "en": "Only officials of this delegation set its release.",
        "zh-Hans": "只有该代表团的官员可以设定其发布时间。",
    },
    "release.see_own": {
        "en": "Only officials of this delegation and moderators see its release.",
        "zh-Hans": "只有该代表团的官员和审核员可以查看其发布安排。",
    },
    "release.in_future": {
        "en": "The release instant must be in the future.",
        "zh-Hans": "发布时间必须在未来。",
    },
    "release.within_30_days": {
        "en": "The release instant may be at most 30 days ahead.",
        "zh-Hans": "发布时间最多只能在30天之后。",
    },
    "response.not_addressed": {
        "en": "This submission is not addressed to your delegation.",
        "zh-Hans": "这份提交材料的致送对象不包括贵代表团。",
    },
    "response.exists": {
        "en": "Your delegation has responded already: revise that response instead.",
        "zh-Hans": "贵代表团已作出回应，请改为修订该回应。",
    },
    "response.revise_own": {
        "en": "Only the delegation that responded revises its response.",
        "zh-Hans": "只有作出回应的代表团可以修订该回应。",
    },
    "response.changed": {
        "en": "The response was revised since you read it; GET it again.",
        "zh-Hans": "该回应在您读取之后已被修订，请用 GET 重新读取。",
    },
    "response.reason_needed": {
        "en": "a declined response needs a reason_code",
        "zh-Hans": "拒绝答复时须提供 reason_code",
    },
    "response.reason_only_declined": {
        "en": "reason_code is only for declined responses",
        "zh-Hans": "只有拒绝答复才能提供 reason_code",
    },
    "grouped.not_published": {
        "en": "Some submission_ids are not published submissions of this round "
        "(listed in `submission_ids`).",
        "zh-Hans": "submission_ids 中有些不是本轮已发布的提交材料（见 `submission_ids`）。",
    },
    "grouped.not_addressed": {
        "en": "Some submissions are not addressed to your delegation (listed in `submission_ids`).",
        "zh-Hans": "有些提交材料的致送对象不包括贵代表团（见 `submission_ids`）。",
    },
    "grouped.answered": {
        "en": "Your delegation has answered some of these submissions already (listed in "
        "`submission_ids`, with `response_ids`): revise those responses instead.",
        "zh-Hans": "贵代表团已回应其中部分提交材料（见 `submission_ids` 及 `response_ids`），"
        "请改为修订那些回应。",
    },
    "grouped.distinct": {
        "en": "submission_ids must be distinct",
        "zh-Hans": "submission_ids 不得重复",
    },
    "assessment.who": {
        "en": "Only the submission's author and moderators assess its responses.",
        "zh-Hans": "只有提交材料的作者和审核员可以评价对它的回应。",
    },
    # --- translations (api/services/translations.py)
    "translation.same_language": {
        "en": "A translation must be in another language than the original.",
        "zh-Hans": "译文的语言必须与原文不同。",
    },
    "translation.unpublished": {
        "en": "Only a published submission is translated.",
        "zh-Hans": "只有已发布的提交材料才能翻译。",
    },
    "translation.submission_who": {
        "en": "Only the submission's author and moderators translate it.",
        "zh-Hans": "只有提交材料的作者和审核员可以翻译它。",
    },
    "translation.response_who": {
        "en": "Only officials of the delegation that responded and moderators translate a "
        "response.",
        "zh-Hans": "只有作出回应的代表团的官员和审核员可以翻译该回应。",
    },
    "translation.authoritative_kept": {
        "en": "Only the delegation replaces the text it made authoritative.",
        "zh-Hans": "只有代表团本身可以替换其定为权威文本的译文。",
    },
    "translation.authoritative_who": {
        "en": "Only the delegation that responded chooses its authoritative text.",
        "zh-Hans": "只有作出回应的代表团可以选定其权威文本。",
    },
    "translation.authoritative_own": {
        "en": "Only a translation the delegation made can be its authoritative text.",
        "zh-Hans": "只有代表团自己所作的译文才能成为其权威文本。",
    },
    "translation.authoritative_stale": {
        "en": "That translation is of an earlier revision: translate the current one first.",
        "zh-Hans": "该译文所译的是较早的修订版本，请先翻译当前版本。",
    },
    "translation.none_in_language": {
        "en": "The response has no translation in that language.",
        "zh-Hans": "该回应没有这种语言的译文。",
    },
    # --- benchmarks and commitments
    "benchmark.not_found": {"en": "No such benchmark.", "zh-Hans": "该基准不存在。"},
    "benchmark.some_not_found": {
        "en": "No such benchmark among those given.",
        "zh-Hans": "所列的基准中有不存在的基准。",
    },
    "commitment.not_found": {"en": "No such commitment.", "zh-Hans": "该承诺不存在。"},
    "commitment.delegation_needed": {
        "en": "Name the delegation that made the commitment.",
        "zh-Hans": "请写明作出该承诺的代表团。",
    },
    "commitment.who": {
        "en": "Only officials and moderators record commitments.",
        "zh-Hans": "只有官员和审核员可以记录承诺。",
    },
    "commitment.own_dialogue": {
        "en": "Officials record commitments for their own delegation's dialogue.",
        "zh-Hans": "官员只能在本代表团参与的对话中记录承诺。",
    },
    "commitment.own_delegation": {
        "en": "Officials record commitments for their own delegation only.",
        "zh-Hans": "官员只能为本代表团记录承诺。",
    },
    "commitment.published_only": {
        "en": "Every related submission must be published.",
        "zh-Hans": "所有相关的提交材料都必须已经发布。",
    },
    "progress.who": {
        "en": "Only moderators and the delegation concerned assess progress.",
        "zh-Hans": "只有审核员和相关代表团可以评估进展。",
    },
}

# Words put inside a message: what could not be done in a round's phase.
PHRASES: dict[str, dict[str, Text]] = {
    "action": {
        "submit": {"en": "submitting", "zh-Hans": "提交"},
        "edit": {"en": "editing a submission", "zh-Hans": "修改提交材料"},
        "respond": {
            "en": "responding (after the session ends)",
            "zh-Hans": "作出回应（须待对话会议结束后）",
        },
        "schedule_release": {
            "en": "scheduling a release (after the session ends)",
            "zh-Hans": "设定发布时间（须待对话会议结束后）",
        },
        "set_benchmark": {
            "en": "setting a benchmark (before the session)",
            "zh-Hans": "设定基准（须在对话会议开始前）",
        },
        "record_commitment": {
            "en": "recording a commitment (from the session on)",
            "zh-Hans": "记录承诺（须在对话会议开始后）",
        },
    },
}

# The readable label of every enum value a client sees, by vocabulary.
LABELS: dict[str, dict[str, Text]] = {
    "submission_kind": {
        "concern": {"en": "Concern", "zh-Hans": "关切事项"},
        "case": {"en": "Case", "zh-Hans": "个案"},
    },
    "attribution": {
        "anonymous": {"en": "Anonymous", "zh-Hans": "匿名"},
        "handle": {"en": "Under the author's handle", "zh-Hans": "以作者用户名署名"},
        "organisation": {"en": "On behalf of an organisation", "zh-Hans": "以组织名义署名"},
    },
    "submission_status": {
        "pending": {"en": "Awaiting moderation", "zh-Hans": "待审核"},
        "published": {"en": "Published", "zh-Hans": "已发布"},
        "rejected": {"en": "Rejected", "zh-Hans": "已驳回"},
        "withdrawn": {"en": "Withdrawn by its author", "zh-Hans": "已由作者撤回"},
        "removed": {"en": "Removed by a moderator", "zh-Hans": "已由审核员撤下"},
    },
    "moderation_decision": {
        "publish": {"en": "Publish", "zh-Hans": "发布"},
        "reject": {"en": "Reject", "zh-Hans": "驳回"},
        "remove": {"en": "Remove", "zh-Hans": "撤下"},
    },
    "case_status": {
        "detained": {"en": "Detained", "zh-Hans": "被羁押"},
        "disappeared": {"en": "Disappeared", "zh-Hans": "被失踪"},
        "imprisoned": {"en": "Imprisoned", "zh-Hans": "被监禁"},
        "under_surveillance": {"en": "Under surveillance", "zh-Hans": "受到监控"},
        "exit_banned": {"en": "Barred from leaving the country", "zh-Hans": "被限制出境"},
        "released": {"en": "Released", "zh-Hans": "已获释"},
        "exiled": {"en": "In exile", "zh-Hans": "流亡海外"},
        "deceased": {"en": "Deceased", "zh-Hans": "已去世"},
        "unknown": {"en": "Unknown", "zh-Hans": "情况不明"},
    },
    "case_review": {
        "pending": {"en": "Awaiting moderation", "zh-Hans": "待审核"},
        "published": {"en": "Published", "zh-Hans": "已发布"},
        "rejected": {"en": "Rejected", "zh-Hans": "已驳回"},
        "removed": {"en": "Removed by a moderator", "zh-Hans": "已由审核员撤下"},
    },
    "response_kind": {
        "answer": {"en": "Answer", "zh-Hans": "答复"},
        "holding": {
            "en": "Holding reply (an answer will follow)",
            "zh-Hans": "暂缓答复（稍后作答）",
        },
        "declined": {"en": "Declined to answer", "zh-Hans": "拒绝答复"},
    },
    "translated_by": {
        "author": {"en": "Translated by the author", "zh-Hans": "由作者翻译"},
        "delegation": {"en": "Translated by the delegation", "zh-Hans": "由代表团翻译"},
        "moderator": {"en": "Translated by the moderators", "zh-Hans": "由审核员翻译"},
    },
    "reason_code": {
        "internal_affairs": {"en": "Internal affairs", "zh-Hans": "属于内政"},
        "ongoing_judicial_proceedings": {
            "en": "Judicial proceedings under way",
            "zh-Hans": "司法程序正在进行中",
        },
        "not_within_competence": {
            "en": "Not within the delegation's competence",
            "zh-Hans": "不属于本代表团的职权范围",
        },
        "other": {"en": "Other reason", "zh-Hans": "其他原因"},
    },
    "rating": {
        "satisfactory": {"en": "Satisfactory", "zh-Hans": "令人满意"},
        "partial": {"en": "Partial", "zh-Hans": "部分回应"},
        "evasive": {"en": "Evasive", "zh-Hans": "回避问题"},
        "non_responsive": {"en": "Non-responsive", "zh-Hans": "未作实质回应"},
    },
    "progress_status": {
        "not_started": {"en": "Not started", "zh-Hans": "尚未启动"},
        "in_progress": {"en": "In progress", "zh-Hans": "正在推进"},
        "met": {"en": "Met", "zh-Hans": "已达成"},
        "not_met": {"en": "Not met", "zh-Hans": "未达成"},
    },
    "assessment_side": {
        "civil_society": {"en": "Civil society", "zh-Hans": "公民社会"},
        "delegation": {"en": "The delegation", "zh-Hans": "代表团"},
    },
    "phase": {
        "upcoming": {"en": "Upcoming", "zh-Hans": "尚未开始"},
        "accepting_submissions": {"en": "Accepting submissions", "zh-Hans": "接受提交"},
        "awaiting_session": {"en": "Awaiting the session", "zh-Hans": "等待对话会议"},
        "in_session": {"en": "In session", "zh-Hans": "对话会议进行中"},
        "accepting_responses": {"en": "Accepting responses", "zh-Hans": "接受回应"},
        "concluded": {"en": "Concluded", "zh-Hans": "已结束"},
    },
    "role": {
        "activist": {"en": "Activist", "zh-Hans": "活动人士"},
        "official": {"en": "Official", "zh-Hans": "官员"},
        "moderator": {"en": "Moderator", "zh-Hans": "审核员"},
        "admin": {"en": "Administrator", "zh-Hans": "管理员"},
    },
}
