"""Demo data: two rounds of the US–China Human Rights Dialogue, the 17th (Washington,
23–24 July 2012) and the 18th (Kunming, Yunnan, 30–31 July 2013).

The rounds, their dates and places are historical, and so are the facts of the named cases
(Chen Guangcheng, Gao Zhisheng, Xu Zhiyong) and the events the submissions cite. The
Shenzhen strike organiser is a fictional person, never named in public. The accounts,
submissions, responses, ratings, benchmarks, commitments and assessments are illustrative,
written for the demo: they are not records of what anyone said. The record stops at the turn
of 2014; later events (Xu Zhiyong's sentence in January 2014, Gao Zhisheng's release in
August 2014) are not in it. Instants are UTC (Washington was UTC−4, Kunming UTC+8). The
builder replays both rounds in time order through the record log, so the feed reads as the
dialogue happened.
"""

import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.config import Settings
from api.db import make_engine, open_session
from api.security import Security
from api.services import accounts, audit, cases, dialogues, events, submissions, themes
from models.benchmark import Benchmark, BenchmarkCase, BenchmarkCreate, BenchmarkTheme
from models.case import Case, CaseCreate, CaseReview, CaseTimelineEntry, TimelineCreate
from models.commitment import Commitment, CommitmentCreate, CommitmentLink
from models.dialogue import Delegation, DelegationCreate, Dialogue, DialogueCreate
from models.progress import ProgressAssessment, ProgressCreate, Side
from models.response import (
    AnswerAssessment,
    AssessmentCreate,
    ReasonCode,
    Response,
    ResponseCreate,
    ResponseKind,
    ResponseRevision,
    RevisionCreate,
)
from models.round import Round, RoundCreate
from models.submission import (
    Endorsement,
    Status,
    Submission,
    SubmissionAddressee,
    SubmissionCreate,
    SubmissionTheme,
)
from models.user import Role, User

log = logging.getLogger("civic_input")

SLUG = "us-china-human-rights"
DIALOGUE = {
    "title": "US–China Human Rights Dialogue",
    "description": (
        "The annual bilateral human-rights dialogue between the United States and the "
        "People's Republic of China. Demo data: the 2012 Washington and 2013 Kunming rounds "
        "are historical; their accounts, submissions and responses are illustrative."
    ),
}
DELEGATIONS = {"US": "United States", "CN": "China"}
# number: title, location and the five instants (UTC).
ROUNDS: dict[int, dict[str, Any]] = {
    17: {
        "title": "2012 Washington round",
        "location": "Washington, D.C.",
        "window": {
            "submissions_open_at": "2012-06-04 13:00",
            "submissions_close_at": "2012-07-16 04:00",
            "starts_at": "2012-07-23 13:00",  # Monday, 09:00 in Washington
            "ends_at": "2012-07-24 21:30",
            "responses_due_at": "2012-09-07 21:00",
        },
    },
    18: {
        "title": "2013 Kunming round",
        "location": "Kunming, Yunnan",
        "window": {
            "submissions_open_at": "2013-06-03 01:00",
            "submissions_close_at": "2013-07-22 16:00",  # midnight in Kunming
            "starts_at": "2013-07-30 01:00",  # Tuesday, 09:00 in Kunming
            "ends_at": "2013-07-31 09:30",
            "responses_due_at": "2013-09-13 09:00",
        },
    },
}
ORGANISATION = "Dialogue Accountability Network"
MODERATOR = "demo-moderator"
# handle: (role, delegation code). Nobody can sign in as them: see `seed`.
ACCOUNTS: dict[str, tuple[Role, str | None]] = {
    MODERATOR: (Role.moderator, None),
    "demo-official-us": (Role.official, "US"),
    "demo-official-cn": (Role.official, "CN"),
    "lotus-reader": (Role.activist, None),
    "paper-crane": (Role.activist, None),
    "mingjing": (Role.activist, None),
    "rain-on-stone": (Role.activist, None),
    "night-ferry": (Role.activist, None),
}
OFFICIALS = {"US": "demo-official-us", "CN": "demo-official-cn"}

# Recorded by an activist with the status at the time (`status`), the earlier `history`
# added, then published by the moderator; `later` timeline entries are published when they
# were recorded: (status, event date, note, recorded at).
CASES: dict[str, dict[str, Any]] = {
    "chen-guangcheng": {
        "name": "Chen Guangcheng",
        "name_native": "陈光诚",
        "consent": True,
        "location": "Dongshigu village, Linyi, Shandong",
        "summary": (
            "A blind, self-taught legal advocate who exposed forced abortions and "
            "sterilisations in Linyi. Imprisoned, then confined at home with his family after "
            "his release; escaped in April 2012 and left for the United States in May. "
            "Relatives who stayed behind face reprisals."
        ),
        "restricted_details": (
            "Relatives are reached only through the caseworker (demo: no contact)."
        ),
        "recorded_by": "night-ferry",
        "published": "2012-06-07 12:00",
        "status": ("exiled", "2012-05-19"),
        "history": [
            ("imprisoned", "2006-08-24", "Sentenced to four years and three months."),
            ("under_surveillance", "2010-09-09", "Released from prison into house arrest at home."),
        ],
    },
    "gao-zhisheng": {
        "name": "Gao Zhisheng",
        "name_native": "高智晟",
        "consent": True,
        "location": "Shaya prison, Aksu, Xinjiang",
        "summary": (
            "A human rights lawyer who defended Falun Gong practitioners and house-church "
            "Christians; his law firm was shut down in 2005. Convicted of “inciting subversion” "
            "in 2006 and given a suspended sentence, he was taken by police again and again "
            "and held incommunicado. His wife and children fled to the United States in 2009. "
            "In December 2011 state media said he would serve three years in prison."
        ),
        "restricted_details": (
            "News from the family comes through his wife's contact in the US (demo: none)."
        ),
        "recorded_by": "paper-crane",
        "published": "2012-06-15 10:00",
        "status": ("imprisoned", "2011-12-16"),
        "history": [
            (
                "under_surveillance",
                "2006-12-22",
                "Three years for “inciting subversion”, suspended for five; watched at home.",
            ),
            (
                "disappeared",
                "2009-02-04",
                "Taken by police in Shaanxi; apart from a few weeks in 2010, held incommunicado.",
            ),
        ],
    },
    # Fictional: the family did not agree to publication, so the public sees "name withheld".
    "shenzhen-organiser": {
        "name": "Fang Yu (fictional)",
        "name_native": "方宇（虚构）",
        "consent": False,
        "location": "Shenzhen, Guangdong",
        "summary": (
            "Illustrative, fictional case. A worker who helped organise a strike over unpaid "
            "wages at an electronics factory in Shenzhen, detained in May 2012 on suspicion of "
            "“gathering a crowd to disturb social order”. The family asked that the name be "
            "withheld."
        ),
        "restricted_details": (
            "The family is reached through a labour NGO in Shenzhen (demo: fictional)."
        ),
        "recorded_by": "rain-on-stone",
        "published": "2012-06-21 09:00",
        "status": ("detained", "2012-05-14"),
        "history": [],
        "later": [
            (
                "released",
                "2013-01-18",
                "Released on bail pending investigation (取保候审); may not leave the city.",
                "2013-01-21 10:00",
            ),
        ],
    },
    "xu-zhiyong": {
        "name": "Xu Zhiyong",
        "name_native": "许志永",
        "consent": True,
        "location": "Beijing",
        "summary": (
            "A legal scholar, founder of the Open Constitution Initiative and of the New "
            "Citizens' Movement, which calls for officials to disclose their assets and for "
            "equal access to education. Detained in Beijing on 16 July 2013 on suspicion of "
            "“gathering a crowd to disturb order in a public place”."
        ),
        "restricted_details": "Contact through his lawyers only (demo: none).",
        "recorded_by": "night-ferry",
        "published": "2013-07-18 12:00",
        "status": ("detained", "2013-07-16"),
        "history": [],
    },
}

# Set before a round and adopted by the moderator; assessed by the moderator (civil society)
# and by the delegation's official: (assessor, status, at, note).
BENCHMARKS: list[dict[str, Any]] = [
    {
        "round": 17,
        "delegation": "CN",
        "title": "Chen Kegui is defended by lawyers his family chose",
        "description": (
            "Met when lawyers retained by Chen Guangcheng's family have visited his nephew Chen "
            "Kegui and represent him at any trial."
        ),
        "cases": ["chen-guangcheng"],
        "themes": ["rule-of-law", "human-rights-defenders"],
        "adopted": "2012-07-18 15:00",
        "progress": [
            (MODERATOR, "not_met", "2012-12-03 12:00", "Sentenced; tried without family lawyers."),
            ("demo-official-cn", "met", "2012-12-10 12:00", "He was defended according to law."),
        ],
    },
    {
        "round": 18,
        "delegation": "CN",
        "title": "Re-education through labour is abolished by law",
        "description": (
            "Met when the National People's Congress or its Standing Committee abolishes "
            "re-education through labour (劳动教养), detention without trial for up to four "
            "years, and the people it holds are freed."
        ),
        "cases": [],
        "themes": ["arbitrary-detention", "rule-of-law"],
        "adopted": "2013-07-15 12:00",
        "progress": [
            (MODERATOR, "in_progress", "2013-09-02 12:00", "Announced in January; not yet law."),
            (
                "demo-official-cn",
                "met",
                "2013-12-30 09:00",
                "Abolished by the NPC Standing Committee on 28 December 2013.",
            ),
            (
                MODERATOR,
                "met",
                "2013-12-30 12:00",
                "Abolished on 28 December 2013; those still held are to be freed.",
            ),
        ],
    },
    {
        "round": 18,
        "delegation": "CN",
        "title": "Gao Zhisheng is freed and may join his family",
        "description": (
            "Met when Gao Zhisheng is out of prison and free to join his wife and children abroad."
        ),
        "cases": ["gao-zhisheng"],
        "themes": ["human-rights-defenders", "arbitrary-detention"],
        "adopted": "2013-07-16 12:00",
        "progress": [
            (MODERATOR, "not_met", "2013-12-16 12:00", "Still in prison in Xinjiang."),
            (
                "demo-official-cn",
                "not_met",
                "2013-12-20 09:00",
                "He is serving a sentence imposed according to law.",
            ),
        ],
    },
    {
        "round": 18,
        "delegation": "CN",
        "title": "Lawyers meet detained clients within 48 hours of asking",
        "description": (
            "Met when lawyers report that detention centres arrange meetings with detained "
            "clients within 48 hours of a request, as the revised Criminal Procedure Law (in "
            "force since 1 January 2013) provides, in cases called sensitive too."
        ),
        "cases": [],
        "themes": ["rule-of-law", "human-rights-defenders"],
        "adopted": "2013-07-17 12:00",
        "progress": [
            (
                MODERATOR,
                "not_met",
                "2013-12-09 12:00",
                "Lawyers report meetings refused or delayed in cases investigators call sensitive.",
            ),
            (
                "demo-official-cn",
                "met",
                "2013-12-12 09:00",
                "Detention centres arrange meetings as the law requires.",
            ),
        ],
    },
]

# Undertaken by a delegation in a round, recorded by its official; `submissions` name the
# `ref` of submissions they answer. Assessed as benchmarks are.
COMMITMENTS: list[dict[str, Any]] = [
    {
        "round": 17,
        "delegation": "US",
        "recorded": "2012-07-26 15:30",
        "text": (
            "The US delegation will brief the press after each round and meet civil-society "
            "groups before the next one."
        ),
        "due_on": "2013-07-30",
        "submissions": ["open-the-dialogue-2012"],
        "progress": [
            (
                "demo-official-us",
                "met",
                "2013-08-05 15:00",
                "Met civil-society groups before the Kunming round; briefed the press after it.",
            ),
            (MODERATOR, "met", "2013-08-06 12:00", "Both done; no written account yet."),
        ],
    },
    {
        "round": 17,
        "delegation": "CN",
        "recorded": "2012-07-25 08:00",
        "text": (
            "China will answer in writing, by the end of March 2013, the questions on lawyers' "
            "access to detained clients raised for this round."
        ),
        "due_on": "2013-03-31",
        "submissions": ["lawyers-access-2012"],
        "progress": [
            (
                MODERATOR,
                "not_met",
                "2013-04-08 12:00",
                "No written answer; the holding reply of September 2012 still stands.",
            ),
            (
                "demo-official-cn",
                "in_progress",
                "2013-04-10 09:00",
                "The relevant departments are still studying the questions.",
            ),
        ],
    },
]

# Per round, in publication order. Defaults: kind `concern` (`case` names a case, making it
# a case submission), language `en`; attribution `organisation` means ORGANISATION; `ref`
# names a submission for COMMITMENTS. Responses by delegation code: kind, at, body, and
# optionally reason_code, language, revisions [{at, body, reason, and optionally kind}],
# assessments [(rater, rating, comment)]: raters are the author and the moderator. An
# addressed delegation that never responded is silence.
SUBMISSIONS_2012: list[dict[str, Any]] = [
    {
        "case": "chen-guangcheng",
        "title": "Chen Guangcheng's relatives in Shandong",
        "body": (
            "Chen Guangcheng, the blind self-taught legal advocate from Linyi, Shandong, was "
            "confined at home after his prison term ended. He escaped in April 2012 and left "
            "for the United States in May. His relatives paid for it: his nephew Chen Kegui was "
            "detained after officials forced their way into the family home.\n\n"
            "On what legal basis was Chen Guangcheng confined? Where is Chen Kegui held, and "
            "may he see lawyers his family chose? Will the officials responsible be investigated?"
        ),
        "themes": ["human-rights-defenders", "arbitrary-detention", "rule-of-law"],
        "to": ["CN"],
        "author": ("night-ferry", "organisation"),
        "published": "2012-06-08 14:30",
        "endorsed_by": ["lotus-reader", "paper-crane", "mingjing", "rain-on-stone"],
        "responses": {
            "CN": {
                "kind": "declined",
                "reason_code": "ongoing_judicial_proceedings",
                "at": "2012-08-03 08:00",
                "body": (
                    "Chen Kegui is suspected of a crime; the judicial authorities of Shandong "
                    "handle his case according to law, and we do not comment on a pending case. "
                    "Chen Guangcheng, like any Chinese citizen, may study abroad."
                ),
                "assessments": [
                    ("night-ferry", "non_responsive", "None of the three questions answered."),
                    (MODERATOR, "non_responsive", None),
                ],
            }
        },
    },
    {
        "title": "Self-immolations by Tibetans",
        "body": (
            "Dozens of Tibetans, many of them monks and nuns, have set themselves on fire since "
            "2011. Monasteries are under heavy security; journalists and diplomats are kept out. "
            "Will the government let observers and the press in, ease the restrictions on "
            "monasteries, and talk with Tibetans about the grievances behind the protests?"
        ),
        "themes": ["tibet", "freedom-of-religion", "minority-rights"],
        "to": ["CN"],
        "author": ("paper-crane", "handle"),
        "published": "2012-06-13 16:00",
        "endorsed_by": ["lotus-reader", "mingjing"],
        "responses": {
            "CN": {
                "kind": "declined",
                "reason_code": "internal_affairs",
                "at": "2012-08-03 08:10",
                "body": (
                    "Tibet affairs are China's internal affairs. Tibet is stable and its "
                    "people enjoy freedom of religious belief."
                ),
                "assessments": [
                    ("paper-crane", "non_responsive", "The self-immolations go on."),
                    (MODERATOR, "evasive", None),
                ],
            }
        },
    },
    {
        "case": "gao-zhisheng",
        "title": "Gao Zhisheng: imprisoned in Xinjiang, far from his family",
        "body": (
            "The human rights lawyer Gao Zhisheng was taken by police again and again and "
            "held incommunicado for months at a time. In December 2011 state media said his "
            "suspended sentence had been revoked and that he would serve three years in "
            "prison. He is held in Xinjiang, far from the relatives he has left in China.\n\n"
            "Will he be allowed regular family visits, medical care and a lawyer of his "
            "choosing? Will he be free to join his wife and children when his sentence ends?"
        ),
        "themes": ["human-rights-defenders", "enforced-disappearance"],
        "to": ["CN"],
        "author": ("paper-crane", "handle"),
        "published": "2012-06-18 16:00",
        "endorsed_by": ["lotus-reader", "mingjing"],
        "responses": {
            "CN": {
                "kind": "answer",
                "at": "2012-08-10 08:00",
                "body": (
                    "Gao Zhisheng seriously violated the terms of his probation, and the court "
                    "lawfully ordered him to serve his sentence. His lawful rights in prison "
                    "are protected."
                ),
                "assessments": [
                    ("paper-crane", "evasive", "Nothing on visits, care or his lawyer."),
                    (MODERATOR, "evasive", None),
                ],
            }
        },
    },
    {
        "title": "Action Plan 2012–2015: who enforces “preventing unnecessary detention”?",
        "body": (
            "The new National Human Rights Action Plan (2012–2015) promises judicial review of "
            "the need for detention but obliges no one to release anybody, and it qualifies "
            "universal rights by undefined “national conditions”. Legal reform has stalled. "
            "Which body reviews detentions, how many people has it freed, and will a yearly "
            "report on the plan be published?"
        ),
        "themes": ["rule-of-law", "arbitrary-detention"],
        "to": ["CN"],
        "author": ("night-ferry", "organisation"),
        "published": "2012-06-20 15:10",
        "responses": {
            "CN": {
                "kind": "answer",
                "at": "2012-08-21 07:00",
                "body": (
                    "Under the Action Plan (2011–2015) and the revised Criminal Procedure Law, "
                    "in force from 2013, procuratorates review the need for continued detention."
                ),
                "revisions": [
                    {
                        "at": "2012-08-28 06:30",
                        "body": (
                            "Under the Action Plan (2012–2015) and the revised Criminal "
                            "Procedure Law, in force from 2013, procuratorates review the need for "
                            "continued detention."
                        ),
                        "reason": "Correction: the plan runs 2012–2015, not 2011–2015.",
                    }
                ],
                "assessments": [
                    ("night-ferry", "partial", "A body is named; no numbers, no yearly report."),
                    (MODERATOR, "partial", None),
                ],
            }
        },
    },
    {
        "case": "shenzhen-organiser",
        "title": "深圳一名罢工组织者被刑事拘留",
        "body": (
            "2012年5月，深圳一家电子厂的工人因被拖欠工资而罢工，"
            "一名组织者随后以涉嫌“聚众扰乱社会秩序”被刑事拘留，家属委托的律师至今未能会见。"
            "家属要求隐去其姓名。请问羁押的法律依据是什么？律师何时可以会见？"
            "（示例案例，人物为虚构。）"
        ),
        "language": "zh-Hans",
        "themes": ["labour-rights", "arbitrary-detention"],
        "to": ["CN"],
        "author": ("rain-on-stone", "anonymous"),
        "published": "2012-06-22 10:30",
        "endorsed_by": ["night-ferry"],
    },
    {
        "ref": "lawyers-access-2012",
        "title": "请保障维权律师的执业权利和会见权",
        "body": (
            "2012年3月修订的《刑事诉讼法》写入了律师会见权，"
            "但也允许“指定居所监视居住”长达六个月，期间律师往往见不到当事人；"
            "代理敏感案件的律师还可能在年度考核中不获注册。"
            "新法生效后如何保证律师及时会见当事人？"
        ),
        "language": "zh-Hans",
        "themes": ["human-rights-defenders", "rule-of-law"],
        "to": ["CN"],
        "author": ("mingjing", "handle"),
        "published": "2012-06-26 13:20",
        "endorsed_by": ["paper-crane", "rain-on-stone"],
        "responses": {
            "CN": {
                "kind": "holding",
                "language": "zh-Hans",
                "at": "2012-09-05 09:00",
                "body": "该问题已转交有关部门研究，我们将在适当时候答复。",
            }
        },
    },
    {
        "title": "未登记家庭教会的聚会自由",
        "body": (
            "未登记的家庭教会常被禁止租用场地聚会，有信徒在户外礼拜时被带走。"
            "未登记的信众可以通过什么合法途径和平聚会？"
        ),
        "language": "zh-Hans",
        "themes": ["freedom-of-religion", "freedom-of-assembly"],
        "to": ["CN"],
        "author": ("rain-on-stone", "anonymous"),
        "published": "2012-07-03 13:05",
    },
    {
        "title": "Strike organisers detained; workers cannot choose their representatives",
        "body": (
            "Workers who organise strikes over unpaid wages are dismissed or detained, and "
            "workplace union branches are often run by management. Will workers be allowed to "
            "elect their own representatives, and will the detention of organisers stop?"
        ),
        "themes": ["labour-rights", "freedom-of-assembly"],
        "to": ["CN"],
        "author": ("night-ferry", "organisation"),
        "published": "2012-07-05 18:45",
        "endorsed_by": ["mingjing"],
        "responses": {
            "CN": {
                "kind": "answer",
                "at": "2012-10-16 07:30",  # after responses_due_at: late
                "body": (
                    "The Trade Union Law guarantees the right to organise; direct elections "
                    "of enterprise union leaders are being piloted in Shenzhen."
                ),
                "assessments": [("night-ferry", "partial", "Late, and silent on detentions.")],
            }
        },
    },
    {
        "title": "微博删帖与以“散布谣言”为由拘留网民",
        "body": (
            "2012年4月至5月，有关陈光诚出走的微博几分钟内即被删除，他的名字在搜索中被屏蔽；"
            "网民常以“散布谣言”为由被拘留。屏蔽搜索依据哪条法律？用户如何对删帖提出异议？"
        ),
        "language": "zh-Hans",
        "themes": ["freedom-of-expression", "internet-freedom"],
        "to": ["CN"],
        "author": ("rain-on-stone", "anonymous"),
        "published": "2012-07-10 14:00",
    },
    {
        "title": "Civilian deaths in US drone strikes",
        "body": (
            "Civilians are reported killed in US drone strikes in Pakistan, Yemen and Somalia; "
            "China's 2012 report on human rights in the United States says so too. Will the US "
            "publish its legal standard for such strikes and a count of civilian deaths?"
        ),
        "themes": ["use-of-force"],
        "to": ["US"],
        "author": ("lotus-reader", "handle"),
        "published": "2012-07-12 15:30",
        "responses": {
            "US": {
                "kind": "answer",
                "at": "2012-08-14 19:00",
                "body": (
                    "US counterterrorism operations comply with domestic and international "
                    "law, as senior officials set out publicly this year. We do not discuss "
                    "specific operations."
                ),
                "assessments": [("lotus-reader", "evasive", "No standard, no figures.")],
            }
        },
    },
    {
        "title": "Gun violence and the killing of Trayvon Martin",
        "body": (
            "Trayvon Martin, an unarmed Black 17-year-old, was shot dead in Sanford, Florida, "
            "in February 2012; his killer was not charged for six weeks. What will the US do "
            "about racial profiling and gun violence?"
        ),
        "themes": ["racial-discrimination", "rule-of-law"],
        "to": ["US"],
        "author": ("night-ferry", "anonymous"),
        "published": "2012-07-13 16:10",
        "responses": {
            "US": {
                "kind": "holding",
                "at": "2012-08-30 20:00",
                "body": (
                    "A federal civil-rights investigation is ongoing; we will answer when "
                    "it concludes."
                ),
            }
        },
    },
    {
        "ref": "open-the-dialogue-2012",
        "title": "Open the dialogue: a press conference and a public account",
        "body": (
            "Past rounds ended with no public account of what was said. We ask both "
            "delegations to take journalists' questions after this round, to hear Chinese "
            "activists before the next, and to publish benchmarks for progress."
        ),
        "themes": ["human-rights-defenders", "freedom-of-expression"],
        "to": ["CN", "US"],
        "author": ("lotus-reader", "handle"),
        "published": "2012-07-16 14:00",
        "endorsed_by": ["paper-crane", "night-ferry"],
        "responses": {
            "US": {
                "kind": "answer",
                "at": "2012-07-26 15:00",
                "body": (
                    "The head of the US delegation briefed journalists after the session; "
                    "we meet civil-society groups before and after each round."
                ),
                "assessments": [("lotus-reader", "satisfactory", "A start; benchmarks next.")],
            }
        },
    },
]

SUBMISSIONS_2013: list[dict[str, Any]] = [
    {
        "case": "chen-guangcheng",
        "title": "Chen Guangcheng's family, a year on",
        "body": (
            "We raised Chen Guangcheng's relatives before the 2012 round. Since then his "
            "nephew Chen Kegui has been sentenced, in November 2012, to three years and three "
            "months in prison, after a trial at which the lawyers his family chose could not "
            "defend him.\n\n"
            "Why were the family's lawyers kept out? Will the officials who forced their way "
            "into the family home in 2012 be investigated?"
        ),
        "themes": ["human-rights-defenders", "rule-of-law"],
        "to": ["CN"],
        "author": ("night-ferry", "organisation"),
        "published": "2013-06-05 14:00",
        "endorsed_by": ["lotus-reader", "paper-crane", "rain-on-stone"],
        "responses": {
            "CN": {
                "kind": "declined",
                "reason_code": "other",
                "at": "2013-08-09 08:00",
                "body": "The case of Chen Kegui was tried and concluded according to law.",
                "assessments": [
                    ("night-ferry", "non_responsive", "Second year running: no answer at all."),
                    (MODERATOR, "non_responsive", None),
                ],
            }
        },
    },
    {
        "title": "Let journalists and diplomats into Tibetan areas",
        "body": (
            "More than a hundred Tibetans have set themselves on fire since 2009. Tibetan "
            "areas stay closed to foreign journalists and diplomats, so nobody can check what "
            "happens there. Will the government open them to independent observers?"
        ),
        "themes": ["tibet", "press-freedom", "minority-rights"],
        "to": ["CN"],
        "author": ("paper-crane", "handle"),
        "published": "2013-06-12 15:00",
        "endorsed_by": ["lotus-reader"],
        "responses": {
            "CN": {
                "kind": "declined",
                "reason_code": "internal_affairs",
                "at": "2013-08-09 08:10",
                "body": (
                    "Tibet affairs are China's internal affairs. Foreigners visit Tibet in "
                    "great numbers every year, in accordance with the regulations."
                ),
                "assessments": [
                    ("paper-crane", "non_responsive", "The same words as in 2012."),
                    (MODERATOR, "evasive", None),
                ],
            }
        },
    },
    {
        "case": "shenzhen-organiser",
        "title": "Close the case against the Shenzhen strike organiser",
        "body": (
            "We raised this case, whose family asks that the name be withheld, before the 2012 "
            "round and had no reply. The strike organiser was released on bail in January "
            "2013 but remains under investigation and may not leave the city. Will the case "
            "be closed? (Illustrative, fictional case.)"
        ),
        "themes": ["labour-rights", "arbitrary-detention"],
        "to": ["CN"],
        "author": ("rain-on-stone", "anonymous"),
        "published": "2013-06-20 11:00",
        "endorsed_by": ["night-ferry", "mingjing"],
        "responses": {
            "CN": {
                "kind": "holding",
                "at": "2013-08-20 08:00",
                "body": "The local public security organ is handling the case according to law.",
                "revisions": [
                    {
                        "at": "2013-10-08 08:00",
                        "kind": "answer",
                        "body": (
                            "The public security organ ended the investigation on 27 September "
                            "2013. No charges were brought, and the bail conditions are lifted."
                        ),
                        "reason": "Update: the investigation has ended.",
                    }
                ],
                "assessments": [
                    ("rain-on-stone", "satisfactory", "Confirmed by the family."),
                    (MODERATOR, "satisfactory", None),
                ],
            }
        },
    },
    {
        "title": "劳动教养制度何时依法废止？",
        "body": (
            "2013年1月，有关部门宣布今年将停止使用劳动教养。"
            "劳动教养可不经审判剥夺人身自由最长四年。"
            "请问：该制度何时由全国人大依法废止？仍在劳教的人何时获释？"
            "今后是否会以其他形式的行政羁押取而代之？"
        ),
        "language": "zh-Hans",
        "themes": ["arbitrary-detention", "rule-of-law"],
        "to": ["CN"],
        "author": ("mingjing", "handle"),
        "published": "2013-06-27 12:30",
        "endorsed_by": ["paper-crane", "rain-on-stone", "night-ferry"],
        "responses": {
            "CN": {
                "kind": "answer",
                "language": "zh-Hans",
                "at": "2013-10-15 08:00",  # after responses_due_at: late
                "body": "劳动教养制度改革正在依法推进，有关决定将提请全国人大常委会审议。",
                "revisions": [
                    {
                        "at": "2013-12-30 08:00",
                        "body": (
                            "2013年12月28日，全国人大常委会通过决定，废止劳动教养制度；"
                            "正在被执行劳动教养的人员解除劳动教养，剩余期限不再执行。"
                        ),
                        "reason": "更新：全国人大常委会已废止劳动教养制度。",
                    }
                ],
                "assessments": [
                    ("mingjing", "partial", "废止了，但没有回答是否会以其他形式取而代之。"),
                    (MODERATOR, "partial", None),
                ],
            }
        },
    },
    {
        "case": "gao-zhisheng",
        "title": "高智晟律师：第二次提出，仍无改善",
        "body": (
            "去年对话前我们就高智晟律师的处境提出了问题，答复只说他的合法权利受到保障。"
            "一年过去，他仍被关押在新疆，家人极少获准探视。"
            "请问他的健康状况如何？家属能否定期探视？刑满后能否与在美国的妻子儿女团聚？"
        ),
        "language": "zh-Hans",
        "themes": ["human-rights-defenders", "arbitrary-detention"],
        "to": ["CN"],
        "author": ("paper-crane", "handle"),
        "published": "2013-07-03 13:00",
        "endorsed_by": ["mingjing", "lotus-reader", "night-ferry"],
        "responses": {
            "CN": {
                "kind": "holding",
                "language": "zh-Hans",
                "at": "2013-09-10 08:00",
                "body": "有关情况正在了解中，我们将适时答复。",
                "assessments": [("paper-crane", "non_responsive", "第二年仍无实质答复。")],
            }
        },
    },
    {
        "title": "因呼吁官员公示财产而被拘留的公民",
        "body": (
            "2013年春，北京等地多名公民因在街头举牌、呼吁官员公示财产而被拘留。"
            "和平表达这一诉求触犯了哪条法律？被拘留者何时获释？"
        ),
        "language": "zh-Hans",
        "themes": ["freedom-of-expression", "freedom-of-assembly", "human-rights-defenders"],
        "to": ["CN"],
        "author": ("rain-on-stone", "anonymous"),
        "published": "2013-07-09 14:00",
        "endorsed_by": ["mingjing"],
    },
    {
        "title": "Mass surveillance disclosed since June 2013",
        "body": (
            "Documents published since June 2013 describe US programmes that collect the "
            "telephone records of millions of people and the online communications of "
            "foreigners. What are the legal limits on these programmes, who oversees them, and "
            "what protection do people outside the United States have?"
        ),
        "themes": ["internet-freedom", "freedom-of-expression"],
        "to": ["US"],
        "author": ("lotus-reader", "handle"),
        "published": "2013-07-11 15:00",
        "endorsed_by": ["paper-crane"],
        "responses": {
            "US": {
                "kind": "answer",
                "at": "2013-08-16 19:00",
                "body": (
                    "These programmes are authorised by law and overseen by the courts and "
                    "by Congress. The President has announced steps to make them more "
                    "transparent and to strengthen oversight."
                ),
                "assessments": [("lotus-reader", "partial", "Nothing for people abroad.")],
            }
        },
    },
    {
        "title": "Hunger strike and force-feeding at Guantánamo Bay",
        "body": (
            "Most of the men held at Guantánamo Bay joined a hunger strike this year, and "
            "many were force-fed. Dozens of them were cleared for transfer years ago. When "
            "will the cleared men be transferred, and will force-feeding stop?"
        ),
        "themes": ["arbitrary-detention", "torture"],
        "to": ["US"],
        "author": ("night-ferry", "organisation"),
        "published": "2013-07-16 14:30",
        "endorsed_by": ["lotus-reader", "rain-on-stone"],
        "responses": {
            "US": {
                "kind": "answer",
                "at": "2013-09-20 19:00",  # after responses_due_at: late
                "body": (
                    "The President has renewed his commitment to close the facility, lifted "
                    "the moratorium on transfers to Yemen and appointed envoys to work on "
                    "transfers. Detainees receive care consistent with medical standards."
                ),
                "assessments": [("night-ferry", "partial", "Late; nothing on force-feeding.")],
            }
        },
    },
    {
        "case": "xu-zhiyong",
        "title": "Xu Zhiyong detained days before the Kunming round",
        "body": (
            "Xu Zhiyong, a legal scholar who founded the New Citizens' Movement, was detained "
            "in Beijing on 16 July 2013 on suspicion of “gathering a crowd to disturb order in "
            "a public place”. Where is he held, may his lawyers see him, and what did he do "
            "beyond asking officials to disclose their assets?"
        ),
        "themes": ["human-rights-defenders", "arbitrary-detention", "freedom-of-assembly"],
        "to": ["CN"],
        "author": ("night-ferry", "organisation"),
        "published": "2013-07-19 10:00",
        "endorsed_by": ["lotus-reader", "paper-crane", "mingjing", "rain-on-stone"],
    },
    {
        "title": "Kunming: account for the benchmarks and hear activists",
        "body": (
            "Benchmarks were published before this round. We ask both delegations to say "
            "after the round, point by point, what was done about each, to brief the press, "
            "and to hear activists from both countries before the next round."
        ),
        "themes": ["human-rights-defenders", "freedom-of-expression"],
        "to": ["CN", "US"],
        "author": ("lotus-reader", "handle"),
        "published": "2013-07-20 13:00",
        "endorsed_by": ["paper-crane", "night-ferry"],
        "responses": {
            "US": {
                "kind": "answer",
                "at": "2013-08-02 12:00",
                "body": (
                    "The head of the US delegation briefed journalists after the round. We "
                    "will report on the benchmarks that concern the US and meet civil-society "
                    "groups before the next round."
                ),
                "assessments": [("lotus-reader", "satisfactory", "Now for the report.")],
            }
        },
    },
]
SUBMISSIONS: dict[int, list[dict[str, Any]]] = {17: SUBMISSIONS_2012, 18: SUBMISSIONS_2013}

WRITTEN_BEFORE = timedelta(days=1)  # a submission was written a day before it was published
ASSESSED_AFTER = timedelta(days=3)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class DemoConflict(RuntimeError):
    """The demo accounts' handles are taken by real accounts."""


def seed_if_empty(settings: Settings) -> bool:
    engine = make_engine(settings.database_url)
    try:
        with open_session(engine) as session:
            empty = session.exec(select(sa.func.count()).select_from(Dialogue)).one() == 0
    finally:
        engine.dispose()
    if not empty:
        return False
    try:
        return seed(settings)
    except DemoConflict as exc:
        log.warning("demo data not loaded: %s", exc)
        return False


def seed(settings: Settings) -> bool:
    """Load the demo dialogue once; answer False when it is already there."""
    engine = make_engine(settings.database_url)
    try:
        with open_session(engine, write=True) as session:
            if _present(session):
                return False
            # One hash of a random, forgotten password for every demo account: none can sign in.
            password_hash = Security(settings).hash_password(secrets.token_urlsafe(32))
            try:
                _build(session, password_hash=password_hash)
                session.commit()
            except sa.exc.IntegrityError:
                session.rollback()  # another process loaded it at the same moment
                if _present(session):
                    return False
                raise
            return True
    finally:
        engine.dispose()


def _present(session: Session) -> bool:
    return session.exec(select(Dialogue.id).where(Dialogue.slug == SLUG)).first() is not None


@dataclass
class _Demo:
    session: Session
    users: dict[str, User]
    delegations: dict[str, Delegation]
    rounds: dict[int, Round]
    cases: dict[str, Case] = field(default_factory=dict)
    refs: dict[str, Submission] = field(default_factory=dict)
    steps: list[tuple[datetime, Callable[[], None]]] = field(default_factory=list)

    def at(self, when: datetime, step: Callable[[], None]) -> None:
        self.steps.append((when, step))

    def replay(self) -> None:
        # A stable sort: steps at the same instant run in the order they were planned.
        for _, step in sorted(self.steps, key=lambda s: s[0]):
            step()
            self.session.flush()

    def audit(self, when: datetime, action: str, target_id: uuid.UUID, **detail: Any) -> None:
        """The moderator's decision, as the services record it, dated when it was made."""
        entry = audit.record(
            self.session,
            actor=self.users[MODERATOR],
            action=action,
            target_type=action.split(".")[0],
            target_id=target_id,
            detail=detail,
        )
        entry.at = when


def _build(session: Session, *, password_hash: str) -> None:
    keys = [accounts.handle_key(handle) for handle in ACCOUNTS]
    taken = session.exec(select(User.handle).where(col(User.handle_key).in_(keys))).all()
    if taken:
        raise DemoConflict(f"handles already in use: {', '.join(sorted(taken))}")
    dialogue = dialogues.create(session, data=DialogueCreate(slug=SLUG, **DIALOGUE))
    delegations = {
        code: dialogues.add_delegation(
            session, dialogue=dialogue, data=DelegationCreate(code=code, name=name)
        )
        for code, name in DELEGATIONS.items()
    }
    rounds = {
        number: Round(
            dialogue_id=dialogue.id,
            **RoundCreate(
                number=number,
                title=spec["title"],
                location=spec["location"],
                **{name: _at(text) for name, text in spec["window"].items()},
            ).model_dump(),
        )
        for number, spec in ROUNDS.items()
    }
    users = {
        handle: User(
            handle=handle,
            handle_key=accounts.handle_key(handle),
            password_hash=password_hash,
            role=role.value,
            delegation_id=delegations[code].id if code else None,
        )
        for handle, (role, code) in ACCOUNTS.items()
    }
    session.add_all(rounds.values())
    session.add_all(users.values())
    session.flush()
    demo = _Demo(session, users, delegations, rounds)
    for key, spec in CASES.items():
        demo.cases[key] = _case(demo, spec)
    for number, items in SUBMISSIONS.items():
        for item in items:
            submission = _submission(demo, item, rnd=rounds[number])
            if "ref" in item:
                demo.refs[item["ref"]] = submission
            for code, spec in item.get("responses", {}).items():
                _response(demo, spec, submission=submission, delegation=delegations[code])
    for spec in BENCHMARKS:
        _benchmark(demo, spec)
    for spec in COMMITMENTS:
        _commitment(demo, spec)
    demo.replay()


def _case(demo: _Demo, spec: dict[str, Any]) -> Case:
    """Recorded by an activist (with its current status), its history added, published;
    later timeline entries published when they were recorded."""
    status, since = spec["status"]
    data = CaseCreate(
        name=spec["name"],
        name_native=spec["name_native"],
        name_consent=spec["consent"],
        status=status,
        status_date=date.fromisoformat(since),
        location=spec["location"],
        summary=spec["summary"],
        restricted_details=spec["restricted_details"],
    )
    published = _at(spec["published"])
    case = cases.create(demo.session, data=data, activist=demo.users[spec["recorded_by"]])
    case.created_at = published - WRITTEN_BEFORE
    moderator = demo.users[MODERATOR]
    for status, on, note in spec["history"]:
        entry = TimelineCreate(status=status, event_date=date.fromisoformat(on), note=note)
        demo.session.add(
            CaseTimelineEntry(
                case_id=case.id,
                status=entry.status.value,
                event_date=entry.event_date,
                note=entry.note,
                created_by_id=moderator.id,
                created_at=published,
            )
        )

    def publish() -> None:
        case.review, case.published_at = CaseReview.published.value, published
        demo.session.flush()
        events.case_changed(demo.session, case=case, event_type="case.published")
        demo.audit(published, "case.published", case.id)

    def add_entry(valid: TimelineCreate, when: datetime) -> None:
        entry = CaseTimelineEntry(
            case_id=case.id,
            status=valid.status.value,
            event_date=valid.event_date,
            note=valid.note,
            created_by_id=moderator.id,
            created_at=when,
        )
        demo.session.add(entry)
        demo.session.flush()
        events.case_timeline(demo.session, entry=entry)
        demo.audit(
            when,
            "case.timeline",
            case.id,
            status=entry.status,
            event_date=entry.event_date.isoformat(),
        )

    demo.at(published, publish)
    for status, on, note, recorded in spec.get("later", []):
        valid = TimelineCreate(status=status, event_date=date.fromisoformat(on), note=note)
        demo.at(_at(recorded), partial(add_entry, valid, _at(recorded)))
    return case


def _submission(demo: _Demo, item: dict[str, Any], *, rnd: Round) -> Submission:
    # The same validation as the API's input: demo text obeys the same limits.
    handle, attribution = item["author"]
    case = demo.cases[item["case"]] if "case" in item else None
    data = SubmissionCreate(
        kind="case" if case else "concern",
        title=item["title"],
        body=item["body"],
        language=item.get("language", "en"),
        themes=item["themes"],
        addressed_to=item["to"],
        attribution=attribution,
        organisation=ORGANISATION if attribution == "organisation" else None,
        case_id=case.id if case else None,
    )
    published = _at(item["published"])
    submission = Submission(
        round_id=rnd.id,
        author_id=demo.users[handle].id,
        status=Status.published.value,
        search_text=submissions.search_text(data.title, data.body),
        created_at=published - WRITTEN_BEFORE,
        updated_at=published,
        published_at=published,
        **data.model_dump(mode="json", exclude={"themes", "addressed_to", "case_id"}),
        case_id=data.case_id,
    )

    def publish() -> None:
        session = demo.session
        session.add(submission)
        session.flush()
        theme_ids = themes.ids_for(session, slugs=data.themes)
        session.add_all(SubmissionTheme(submission_id=submission.id, theme_id=t) for t in theme_ids)
        session.add_all(
            SubmissionAddressee(
                submission_id=submission.id, delegation_id=demo.delegations[code].id
            )
            for code in data.addressed_to
        )
        session.add_all(
            Endorsement(
                submission_id=submission.id,
                user_id=demo.users[endorser].id,
                created_at=published + timedelta(days=n),
            )
            for n, endorser in enumerate(item.get("endorsed_by", []), start=1)
        )
        session.flush()
        demo.audit(published, "submission.publish", submission.id)
        events.submission_published(session, submission=submission)

    demo.at(published, publish)
    return submission


def _response(
    demo: _Demo, spec: dict[str, Any], *, submission: Submission, delegation: Delegation
) -> None:
    """The response, then each revision, then the assessments, each when it happened."""
    data = ResponseCreate(
        kind=spec["kind"],
        body=spec["body"],
        language=spec.get("language", "en"),
        reason_code=spec.get("reason_code"),
    )
    official = demo.users[OFFICIALS[delegation.code]]
    at = _at(spec["at"])
    response = Response(submission_id=submission.id, delegation_id=delegation.id, responded_at=at)

    def revision(
        number: int,
        kind: ResponseKind,
        body: str,
        reason_code: ReasonCode | None,
        reason: str | None,
        when: datetime,
    ) -> None:
        demo.session.add(response)
        demo.session.add(
            ResponseRevision(
                response_id=response.id,
                number=number,
                kind=kind.value,
                body=body,
                language=data.language,
                reason_code=reason_code.value if reason_code else None,
                reason=reason,
                official_id=official.id,
                created_at=when,
            )
        )
        response.revision_count = number
        demo.session.flush()
        event_type = "response.published" if number == 1 else "response.revised"
        events.response_published(demo.session, response=response, event_type=event_type)

    def assessment(rater: str, rating: str, comment: str | None, when: datetime) -> None:
        valid = AssessmentCreate(rating=rating, comment=comment)
        row = AnswerAssessment(
            response_id=response.id,
            rater_id=demo.users[rater].id,
            rating=valid.rating.value,
            comment=valid.comment,
            created_at=when,
            updated_at=when,
        )
        demo.session.add(row)
        demo.session.flush()
        events.answer_assessed(demo.session, assessment=row, response=response)

    demo.at(at, partial(revision, 1, data.kind, data.body, data.reason_code, None, at))
    last, kind = at, data.kind
    for number, raw in enumerate(spec.get("revisions", []), start=2):
        valid = RevisionCreate(
            kind=raw.get("kind"),
            body=raw["body"],
            reason_code=raw.get("reason_code"),
            reason=raw["reason"],
        )
        # As the service checks it (the demo names a declined one's reason every time).
        kind = valid.kind or kind
        if (kind == ResponseKind.declined) != (valid.reason_code is not None):
            raise ValueError(f"revision {number} of {submission.title!r}: reason_code")
        last = _at(raw["at"])
        step = partial(revision, number, kind, valid.body, valid.reason_code, valid.reason, last)
        demo.at(last, step)
    for rater, rating, comment in spec.get("assessments", []):
        when = last + ASSESSED_AFTER
        demo.at(when, partial(assessment, rater, rating, comment, when))


def _benchmark(demo: _Demo, spec: dict[str, Any]) -> None:
    rnd = demo.rounds[spec["round"]]
    data = BenchmarkCreate(
        delegation=spec["delegation"],
        title=spec["title"],
        description=spec["description"],
        cases=[demo.cases[key].id for key in spec["cases"]],
        themes=spec["themes"],
    )
    adopted = _at(spec["adopted"])
    if adopted >= rnd.starts_at:
        raise ValueError(f"benchmark {data.title!r} is adopted after its round began")
    benchmark = Benchmark(
        round_id=rnd.id,
        delegation_id=demo.delegations[data.delegation].id,
        title=data.title,
        description=data.description,
        adopted_by_id=demo.users[MODERATOR].id,
        created_at=adopted,
    )

    def adopt() -> None:
        session = demo.session
        session.add(benchmark)
        session.flush()
        session.add_all(BenchmarkCase(benchmark_id=benchmark.id, case_id=c) for c in data.cases)
        session.add_all(
            BenchmarkTheme(benchmark_id=benchmark.id, theme_id=t)
            for t in themes.ids_for(session, slugs=data.themes)
        )
        session.flush()
        events.benchmark_adopted(session, benchmark=benchmark)
        demo.audit(adopted, "benchmark.adopt", benchmark.id, title=benchmark.title)

    demo.at(adopted, adopt)
    _progress(demo, spec["progress"], target_type="benchmark", target_id=benchmark.id, rnd=rnd)


def _commitment(demo: _Demo, spec: dict[str, Any]) -> None:
    """Recorded by the delegation's own official, in the round."""
    rnd = demo.rounds[spec["round"]]
    data = CommitmentCreate(
        delegation=spec["delegation"],
        text=spec["text"],
        due_on=date.fromisoformat(spec["due_on"]),
        submissions=[demo.refs[ref].id for ref in spec["submissions"]],
    )
    assert data.delegation is not None
    recorded = _at(spec["recorded"])
    if recorded < rnd.starts_at:
        raise ValueError("a commitment is made in its round, not before")
    commitment = Commitment(
        round_id=rnd.id,
        delegation_id=demo.delegations[data.delegation].id,
        text=data.text,
        due_on=data.due_on,
        recorded_by_id=demo.users[OFFICIALS[data.delegation]].id,
        created_at=recorded,
    )

    def record() -> None:
        session = demo.session
        session.add(commitment)
        session.flush()
        session.add_all(
            CommitmentLink(commitment_id=commitment.id, target_type="submission", target_id=s)
            for s in sorted(set(data.submissions))
        )
        session.flush()
        events.commitment_recorded(session, commitment=commitment)

    demo.at(recorded, record)
    _progress(demo, spec["progress"], target_type="commitment", target_id=commitment.id, rnd=rnd)


def _progress(
    demo: _Demo,
    progress: list[tuple[str, str, str, str]],
    *,
    target_type: str,
    target_id: uuid.UUID,
    rnd: Round,
) -> None:
    """Dated assessments: the moderator's for civil society, the official's for the delegation."""

    def assess(assessor: User, valid: ProgressCreate, when: datetime) -> None:
        side = Side.civil_society if assessor.role == Role.moderator.value else Side.delegation
        row = ProgressAssessment(
            target_type=target_type,
            target_id=target_id,
            side=side.value,
            status=valid.status.value,
            note=valid.note,
            assessed_on=when.date(),
            assessed_by_id=assessor.id,
            created_at=when,
        )
        demo.session.add(row)
        demo.session.flush()
        events.progress_assessed(demo.session, assessment=row, round_id=rnd.id)
        if side == Side.civil_society:
            demo.audit(when, f"{target_type}.assess", target_id, status=row.status)

    for handle, status, on, note in progress:
        when = _at(on)
        valid = ProgressCreate(status=status, note=note, assessed_on=when.date())
        demo.at(when, partial(assess, demo.users[handle], valid, when))
