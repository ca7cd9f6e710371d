"""Top-level domains a bare domain name may end with: the common part of the IANA root zone.

Every delegated two-letter country code, and the generic TLDs seen most in ordinary and
abusive traffic. Brand TLDs and rare generics are left out on purpose: a bare word
followed by one of them is more often a typo than a host. ``onion`` is special-use
(RFC 7686) but matters in casework.
"""

from __future__ import annotations

COUNTRY_CODES = frozenset(
    """
    ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn
    bo br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de
    dj dk dm do dz ec ee eg er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm
    gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo
    jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg
    mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu
    nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg
    sh si sj sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr
    tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw
    """.split()  # noqa: SIM905 - a word list reads better than 500 quoted strings
)

GENERIC = frozenset(
    """
    com net org info biz gov edu mil int arpa name pro mobi asia tel travel jobs museum
    aero coop cat post xxx onion app dev io xyz online site top shop store tech club vip
    live life world today news blog cloud space website page email link click work
    solutions agency company services network digital media group global center systems
    software tools support finance financial money bank insurance capital fund
    investments exchange trade trading market markets ventures partners holdings legal
    law lawyer attorney properties estate house land city london berlin nyc paris tokyo
    amsterdam moscow bar bet casino poker games game win fun lol icu cyou buzz monster
    rest quest sbs cfd bond autos homes ink design art studio photography photos pics
    gallery video tube movie film music audio radio love sex porn adult dating chat
    social community foundation charity ngo church academy school university college
    education training institute consulting management marketing expert guru ninja
    rocks one zone plus express direct tips wiki help guide review reviews best deals
    sale discount cheap gift shopping ltd llc inc gmbh limited health care clinic
    doctor pharmacy fitness host hosting server domains run red blue pink black green
    gold cash tax loans loan credit mortgage accountant men date download stream science
    party webcam racing faith cricket bid cam uno surf cool team wtf africa lat swiss
    ovh kim eus scot wales
    """.split()  # noqa: SIM905 - a word list reads better than 500 quoted strings
)

TLDS = COUNTRY_CODES | GENERIC
