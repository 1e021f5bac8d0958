"""The pages' two languages: which one a reader gets, the texts, and dates as they read.

`?lang=` decides, then `Accept-Language`, then English. Every link between pages
carries `lang`, so a reader who chose a language keeps it without a cookie.
"""

from datetime import date, datetime
from typing import Final

from api import i18n as api_i18n

EN: Final = "en"
ZH: Final = "zh-Hans"
LANGUAGES: Final = (EN, ZH)


def canonical(tag: str | None) -> str | None:
    """One of `LANGUAGES` for a tag that names it (any case; `zh`, `zh-CN`, `zh-Hans-CN`
    and the other Chinese tags read Simplified Chinese, the only Chinese here), or None."""
    if not tag:
        return None
    primary = tag.strip().split("-", 1)[0].split("_", 1)[0].lower()
    if primary == "en":
        return EN
    if primary == "zh":
        return ZH
    return None


def negotiate(query_lang: str | None, accept_language: str | None) -> str:
    """`?lang=` if it names a language of the pages, else what `Accept-Language` prefers
    as the API negotiates it (`api.i18n`: the response cache keys pages by it too)."""
    return canonical(query_lang) or api_i18n.negotiate(accept_language)


def other(lang: str) -> str:
    return ZH if lang == EN else EN


_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def format_date(value: date | datetime | str | None, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if lang == ZH:
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def format_instant(value: datetime | str | None, lang: str) -> str:
    """An instant in UTC, as the reader writes dates."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    clock = f"{value.hour:02d}:{value.minute:02d}"
    if lang == ZH:
        return f"{format_date(value, lang)} {clock}（协调世界时）"
    return f"{format_date(value, lang)}, {clock} UTC"


def iso(value: date | datetime | str | None) -> str:
    """The machine-readable value for `<time datetime=…>`."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


def percent(value: float | None, lang: str) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.0f}%"


# Texts of the pages: key -> (English, Simplified Chinese).
TEXTS: Final[dict[str, tuple[str, str]]] = {
    "site": ("Civic Input: the public record", "公民意见：公开记录"),
    "skip": ("Skip to the content", "跳到正文"),
    "nav": ("Sections", "栏目"),
    "crumbs": ("Where this page is", "本页位置"),
    "related": ("Related pages", "相关页面"),
    "nav.record": ("Dialogues", "对话"),
    "nav.cases": ("Cases", "个案"),
    "nav.search": ("Search", "搜索"),
    "nav.api": ("The record as JSON", "JSON 格式的记录"),
    "switch": ("中文", "English"),
    "switch.label": ("Read this page in Chinese", "以英文阅读本页"),
    "footer": (
        "Everything shown here is the public record, exactly as the public API gives it.",
        "本页所示均为公开记录，与公开接口提供的内容完全一致。",
    ),
    "feed": ("Atom feed of the record", "记录的 Atom 订阅源"),
    "index.title": ("The public record of the dialogues", "人权对话的公开记录"),
    "index.intro": (
        "Questions civil society put to the delegations of each dialogue, the answers they"
        " gave or did not give, the cases of people raised round after round, and the"
        " scorecards of every round.",
        "公民社会向各对话代表团提出的问题、代表团作出或未作出的回答、一轮又一轮被提出的个案，"
        "以及每一轮对话的记分卡。",
    ),
    "index.none": ("No dialogue has been recorded yet.", "尚未记录任何对话。"),
    "dialogue": ("Dialogue", "对话"),
    "delegations": ("Delegations", "代表团"),
    "rounds": ("Rounds", "轮次"),
    "round": ("Round", "轮次"),
    "round.n": ("Round {n}", "第{n}轮"),
    "phase": ("Phase", "阶段"),
    "location": ("Location", "地点"),
    "schedule": ("Schedule", "日程"),
    "submissions_open_at": ("Submissions open", "开始接受意见"),
    "submissions_close_at": ("Submissions close", "停止接受意见"),
    "starts_at": ("Session starts", "会议开始"),
    "ends_at": ("Session ends", "会议结束"),
    "responses_due_at": ("Responses due", "答复截止"),
    "record.link": ("Questions and answers", "问题与答复"),
    "scorecard": ("Scorecard", "记分卡"),
    "trend": ("Trend across rounds", "历轮趋势"),
    "trend.title": ("{title}: round over round", "{title}：历轮对比"),
    "round.title": ("{title}: questions and answers", "{title}：问题与答复"),
    "scorecard.title": ("{title}: scorecard", "{title}：记分卡"),
    "filters": ("Filter the questions", "筛选问题"),
    "filter.theme": ("Theme", "主题"),
    "filter.kind": ("Kind", "类别"),
    "filter.delegation": ("Addressed to", "提问对象"),
    "filter.answered": ("Answered", "是否已答复"),
    "filter.q": ("Words in the text", "文中词语"),
    "filter.any": ("Any", "全部"),
    "filter.yes": ("Answered", "已答复"),
    "filter.no": ("Not answered", "未答复"),
    "filter.apply": ("Show", "显示"),
    "filter.clear": ("Clear the filters", "清除筛选"),
    "results": ("Questions", "问题"),
    "results.none": ("No published question matches.", "没有符合条件的已发布问题。"),
    "pages": ("Pages", "分页"),
    "page.first": ("First page", "第一页"),
    "page.previous": ("Previous page", "上一页"),
    "page.next": ("Next page", "下一页"),
    "kind": ("Kind", "类别"),
    "kind.concern": ("Concern", "关切"),
    "kind.case": ("Case", "个案"),
    "themes": ("Themes", "主题"),
    "addressed_to": ("Addressed to", "提问对象"),
    "published": ("Published", "发布于"),
    "by": ("Submitted by", "提交者"),
    "anonymous": ("Anonymous", "匿名"),
    "endorsements": ("Endorsements", "联署"),
    "responses": ("Responses", "答复"),
    "responses.none": ("No response yet.", "尚无答复。"),
    "response.from": ("Response of {delegation}", "{delegation}的答复"),
    "no_response.from": ("No response from {delegation}", "{delegation}未答复"),
    "awaiting.from": ("Awaiting a response from {delegation}", "等待{delegation}答复"),
    "scheduled.from": (
        "A response from {delegation} is scheduled for release on",
        "{delegation}的答复定于以下时间发布：",
    ),
    "response.kind.answer": ("Answer", "回答"),
    "response.kind.holding": ("Holding reply (will answer later)", "暂缓答复（稍后回答）"),
    "response.kind.declined": ("Declined", "拒绝回答"),
    "reason": ("Reason given", "所给理由"),
    "reason.internal_affairs": ("Internal affairs", "内政"),
    "reason.ongoing_judicial_proceedings": ("Ongoing judicial proceedings", "司法程序进行中"),
    "reason.not_within_competence": ("Not within its competence", "不属其职权范围"),
    "reason.other": ("Other", "其他"),
    "late": ("Late: given after the due date", "逾期：在截止日期后作出"),
    "responded": ("Responded", "答复于"),
    "response.grouped": (
        "One answer given also to {n} other questions",
        "同一答复亦回答了另外{n}个问题",
    ),
    "revised": ("Corrected on {date}", "更正于{date}"),
    "revision.count": ("{n} versions", "共{n}个版本"),
    "revision.note": ("Why it changed", "更改原因"),
    "text.original": ("Original", "原文"),
    "text.authoritative": ("Authoritative text", "权威文本"),
    "text.authoritative_is": (
        "The authoritative text is the one in {language}.",
        "以{language}文本为准。",
    ),
    "translated_by.author": ("Translated by the author", "由作者翻译"),
    "translated_by.delegation": ("Translated by the delegation", "由代表团翻译"),
    "translated_by.moderator": ("Translated by the moderators", "由审核员翻译"),
    "history": ("Revision history", "修订历史"),
    "history.version": ("Version {n}", "第{n}版"),
    "history.first": ("First version", "初版"),
    "history.diff": ("Changes from version {n}", "相对第{n}版的改动"),
    "history.inserted": ("added", "新增"),
    "history.deleted": ("removed", "删除"),
    "ratings": ("How civil society rated it", "公民社会的评价"),
    "ratings.none": ("Not rated yet.", "尚未评价。"),
    "rating.satisfactory": ("Satisfactory", "满意"),
    "rating.partial": ("Partial", "部分回应"),
    "rating.evasive": ("Evasive", "回避"),
    "rating.non_responsive": ("Non-responsive", "答非所问"),
    "submission.case": ("The case", "相关个案"),
    "submission.round": ("The round", "所属轮次"),
    "submission.scorecard": ("Scorecard of {delegation}", "{delegation}的记分卡"),
    "submission.full": ("Full record of this question", "此问题的完整记录"),
    "cases.title": ("Cases of people raised in the dialogues", "对话中提出的个案"),
    "cases.none": ("No published case.", "没有已发布的个案。"),
    "case.name": ("Name", "姓名"),
    "case.status": ("Status", "状况"),
    "case.since": ("Since", "自"),
    "case.rounds_raised": ("Rounds that raised it", "提出该个案的轮次数"),
    "case.summary": ("Summary", "概要"),
    "case.timeline": ("Status timeline", "状况时间线"),
    "case.timeline.none": ("No dated status yet.", "尚无带日期的状况记录。"),
    "case.date": ("Date", "日期"),
    "case.note": ("Note", "说明"),
    "case.source": ("Source", "来源"),
    "case.raised_in": ("Rounds that raised the case", "提出该个案的轮次"),
    "case.submissions": ("Submissions about the case", "关于该个案的意见"),
    "case.withheld": ("Name withheld", "姓名未公开"),
    "status.detained": ("Detained", "被拘留"),
    "status.disappeared": ("Disappeared", "失踪"),
    "status.imprisoned": ("Imprisoned", "被监禁"),
    "status.under_surveillance": ("Under surveillance", "受监控"),
    "status.exit_banned": ("Banned from leaving", "被禁止出境"),
    "status.released": ("Released", "已获释"),
    "status.exiled": ("In exile", "流亡"),
    "status.deceased": ("Deceased", "已故"),
    "status.unknown": ("Unknown", "不明"),
    "phase.upcoming": ("Upcoming", "尚未开始"),
    "phase.accepting_submissions": ("Accepting submissions", "正在接受意见"),
    "phase.awaiting_session": ("Awaiting the session", "等待会议"),
    "phase.in_session": ("In session", "会议进行中"),
    "phase.accepting_responses": ("Accepting responses", "正在接受答复"),
    "phase.concluded": ("Concluded", "已结束"),
    "sc.delegations": ("Answers by delegation", "各代表团的答复情况"),
    "sc.delegation": ("Delegation", "代表团"),
    "sc.addressed": ("Addressed", "收到问题"),
    "sc.answered": ("Answered", "已回答"),
    "sc.holding": ("Holding", "暂缓"),
    "sc.declined": ("Declined", "拒绝"),
    "sc.no_response": ("No response", "未答复"),
    "sc.unanswered": ("Awaiting a response", "待答复"),
    "sc.late": ("Late", "逾期"),
    "sc.median": ("Median time to answer", "答复时间中位数"),
    "sc.hours": ("{n} hours", "{n}小时"),
    "sc.due": ("Responses were due on {date}.", "答复截止日期为{date}。"),
    "sc.due.open": (
        "Responses are due on {date}; until then nothing counts as no response.",
        "答复截止日期为{date}；在此之前，不计为未答复。",
    ),
    "sc.chart.bars": ("Responses of each delegation, stacked", "各代表团答复情况（堆叠）"),
    "sc.chart.late": ("of which late", "其中逾期"),
    "sc.ratings": ("How civil society rated the answers", "公民社会对答复的评价"),
    "sc.rating": ("Rating", "评价"),
    "sc.cases": ("Cases raised", "提出的个案"),
    "sc.cases.raised": ("Raised this round", "本轮提出"),
    "sc.cases.new": ("Raised for the first time", "首次提出"),
    "sc.cases.repeat": ("Raised in an earlier round too", "此前轮次亦曾提出"),
    "sc.cases.repeat_unimproved": (
        "Repeat cases with no improvement",
        "重复提出且无改善的个案",
    ),
    "sc.benchmarks": ("Benchmarks by state", "基准的进展状态"),
    "sc.commitments": ("Commitments by state", "承诺的进展状态"),
    "sc.benchmarks.short": ("Benchmarks", "基准"),
    "sc.commitments.short": ("Commitments", "承诺"),
    "sc.state": ("State", "状态"),
    "sc.count": ("Number", "数量"),
    "sc.contested": ("Contested: the two sides disagree", "有争议：双方评估不一致"),
    "sc.overdue": ("Overdue", "已逾期"),
    "sc.benchmark.list": ("The benchmarks", "各项基准"),
    "sc.commitment.list": ("The commitments", "各项承诺"),
    "sc.civil_view": ("Civil society's view", "公民社会的评估"),
    "sc.delegation_view": ("The delegation's view", "代表团的自评"),
    "sc.due_on": ("Due", "期限"),
    "sc.none": ("None recorded.", "无记录。"),
    "sc.contested.mark": ("contested", "有争议"),
    "state.not_started": ("Not started", "未开始"),
    "state.in_progress": ("In progress", "进行中"),
    "state.met": ("Met", "已达成"),
    "state.not_met": ("Not met", "未达成"),
    "state.contested": ("Contested", "有争议"),
    "chart.table": ("The figures of the chart", "图表数据"),
    "tr.answer_rate": ("Answer rate", "回答率"),
    "tr.no_response_rate": ("No-response rate", "未答复率"),
    "tr.repeat_cases_unresolved": ("Repeat cases unresolved", "重复提出且未解决的个案"),
    "tr.benchmarks_met": ("Benchmarks met", "已达成的基准"),
    "tr.addressed": ("Questions addressed", "提出的问题"),
    "tr.none": ("No round yet.", "尚无轮次。"),
    "search.title": ("Search the record", "搜索记录"),
    "search.intro": (
        "Every dialogue and every round: the questions, the responses, the cases, the"
        " benchmarks and the commitments, in Chinese and English. Every word must match;"
        ' put a phrase in quotes ("re-education through labour"). Traditional and'
        " simplified characters find each other.",
        "检索所有对话和所有轮次：问题、答复、个案、基准和承诺，中英文均可。"
        "每个词语都须相符；短语请加引号（如“劳动教养”）。繁体字与简体字可以互相检索。",
    ),
    "search.form": ("Search", "搜索"),
    "search.q": ("Words to find", "要查找的词语"),
    "search.type": ("Kind of text", "文本类别"),
    "search.type.submission": ("Question", "问题"),
    "search.type.response": ("Response", "答复"),
    "search.type.case": ("Case", "个案"),
    "search.type.benchmark": ("Benchmark", "基准"),
    "search.type.commitment": ("Commitment", "承诺"),
    "search.untitled.response": ("A delegation's response", "代表团的答复"),
    "search.untitled.commitment": ("A delegation's commitment", "代表团的承诺"),
    "search.untitled.submission": ("A question", "一个问题"),
    "search.untitled.case": ("A case", "一个个案"),
    "search.untitled.benchmark": ("A benchmark", "一项基准"),
    "search.delegation": ("Delegation (addressed to or responding)", "代表团（提问对象或答复方）"),
    "search.language": ("Language of the text", "文本语言"),
    "search.language.en": ("English", "英文"),
    "search.language.zh": ("Chinese", "中文"),
    "search.apply": ("Search", "搜索"),
    "search.results": ("Results", "搜索结果"),
    "search.none": ("Nothing in the public record matches.", "公开记录中没有相符的内容。"),
    "search.invalid": ("This search cannot be run: {detail}", "无法执行此搜索：{detail}"),
    "search.too_long": (
        "The search is longer than {n} characters.",
        "搜索内容不得超过 {n} 个字符。",
    ),
    "notfound.title": ("Not found", "未找到"),
    "notfound.text": (
        "There is nothing public at this address. It may never have existed, or it was"
        " withdrawn or removed.",
        "此地址没有公开内容。它可能从未存在，或已被撤回或删除。",
    ),
    "badrequest.title": ("This address cannot be read", "无法读取此地址"),
    "badrequest.text": (
        "A value in the address is not valid. Start again from the first page.",
        "地址中的某个值无效。请从第一页重新开始。",
    ),
    "unprocessable.title": ("These words cannot be searched for", "无法搜索这些词语"),
    "back.record": ("Back to the record", "返回记录"),
}


def text(key: str, lang: str, **values: object) -> str:
    en, zh = TEXTS[key]
    template = zh if lang == ZH else en
    return template.format(**values) if values else template
