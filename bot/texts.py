"""Every Danish sentence borgerbot shows people, in one file the communication unit can review.

Plain Danish (klarsprog), "du" to the reader, short active sentences. Arguments that end up
inside Slack mrkdwn (names, comments, reasons) must already be made safe by the caller with
`bot.privacy` (escaped, CPR-masked); mentions such as `<@U123>` are passed in ready-made.
This module imports nothing from borgerbot so it can be read and tested on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
          "september", "oktober", "november", "december")
PLATFORMS = {"facebook": "Facebook", "instagram": "Instagram", "linkedin": "LinkedIn", "x": "X"}
KINDS = {"comment": "Kommentar", "reply": "Svar i en kommentartråd",
         "message": "Privat besked", "mention": "Omtale"}
DEFAULT_TIMEZONE = "Europe/Copenhagen"

# --- Time -------------------------------------------------------------------------------


def clock(moment: datetime, tz: str = DEFAULT_TIMEZONE) -> str:
    """Danish clock notation: "kl. 9.05"."""
    local = moment.astimezone(ZoneInfo(tz))
    return f"kl. {local.hour}.{local.minute:02d}"


def day_name(moment: datetime, now: datetime, tz: str = DEFAULT_TIMEZONE) -> str:
    """The weekday within a week of `now` ("tirsdag"), else with the date as well
    ("tirsdag den 12. maj")."""
    zone = ZoneInfo(tz)
    day, today = moment.astimezone(zone).date(), now.astimezone(zone).date()
    weekday = WEEKDAYS[day.weekday()]
    if abs((day - today).days) < 7:
        return weekday
    return f"{weekday} den {day.day}. {MONTHS[day.month - 1]}"


def duration(span: timedelta) -> str:
    """A rounded-down span for people: "3 t 40 min", "2 dage 3 t", "under 1 min"."""
    minutes = int(abs(span.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        parts = [f"{days} dag" if days == 1 else f"{days} dage"] + ([f"{hours} t"] if hours else [])
    elif hours:
        parts = [f"{hours} t"] + ([f"{minutes} min"] if minutes else [])
    else:
        parts = [f"{minutes} min" if minutes else "under 1 min"]
    return " ".join(parts)


def deadline_line(due: datetime | None, now: datetime, tz: str = DEFAULT_TIMEZONE) -> str:
    """"Svar senest tirsdag kl. 14.30 (om 3 t 40 min)", or how late the answer already is."""
    if due is None:
        return "Ingen svarfrist"
    when = f"{day_name(due, now, tz)} {clock(due, tz)}"
    if due > now:
        return f"Svar senest {when} (om {duration(due - now)})"
    return f"⚠️ Svarfristen er overskredet med {duration(now - due)} (fristen var {when})"


# --- The inquiry card -------------------------------------------------------------------


def kind_label(platform: str, kind: str) -> str:
    """"Kommentar på Facebook"."""
    return f"{KINDS.get(kind, 'Henvendelse')} på {PLATFORMS.get(platform, platform.title())}"


def card_header(platform: str, kind: str, urgent: bool) -> str:
    return f"{'🚨 Haster' if urgent else 'Ny henvendelse'}: {kind_label(platform, kind)}"


def approval_header(platform: str, kind: str) -> str:
    return f"Udkast til godkendelse: {kind_label(platform, kind)}"


def author_wrote(author: str) -> str:
    return f"*{author}* skrev:" if author else "En borger skrev:"


def under_post(post: str) -> str:
    return f"Skrevet under opslaget: {post}"


def link_to_original() -> str:
    return "Se henvendelsen på platformen"


def read_everything() -> str:
    return "Læs hele teksten"


def shortened_marker() -> str:
    return " … (forkortet)"


def routed_because(route_name: str, reasons: Sequence[str]) -> str:
    if not reasons:
        return f"Sendt til *{route_name}*, fordi ingen regel passede bedre."
    return f"Sendt til *{route_name}*, fordi: {'; '.join(reasons)}"


def urgent_notice(crisis_plan: str | None, on_call: str | None) -> str:
    """`crisis_plan` is a ready link, `on_call` a ready mention or escaped name (or None)."""
    notice = ("🚨 *Haster:* Henvendelsen kan handle om fare eller en krise. "
              "Er der fare for liv: ring 112.")
    if crisis_plan:
        notice += f" Følg {crisis_plan}."
    if on_call:
        notice += f" Vagthavende: {on_call}."
    return notice


def crisis_plan_label() -> str:
    return "kommunens beredskabsplan"


def urgent_reply_template() -> str:
    """The opening of every answer to an urgent inquiry, filled in for the writer."""
    return "Er der fare for liv: ring 112. Politiet: 114."


def maybe_no_reply() -> str:
    return "Reglerne tyder på, at henvendelsen ikke kræver svar. Vurder det selv."


def draft_by(author: str | None) -> str:
    return f"*Udkast fra {author}:*" if author else "*Udkast:*"


def see_reply() -> str:
    return "Se svaret"


def card_fallback(kind: str, author: str, route_name: str) -> str:
    """Notification text: what phones and screen readers show instead of the blocks."""
    return f"{kind} fra {author or 'en borger'} til {route_name}"


def approval_fallback(kind: str, author: str) -> str:
    return f"Nyt udkast til godkendelse: {kind} fra {author or 'en borger'}"


# --- Buttons and modals ------------------------------------------------------------------

BUTTONS = {
    "draft": "Skriv udkast",
    "no_reply": "Kræver ikke svar",
    "answer": "Svar selv",
    "hide": "Skjul kommentaren",
    "approve": "Godkend og send",
    "edit": "Ret og godkend",
    "reject": "Afvis",
    "retry": "Prøv at sende igen",
}


def button(action: str) -> str:
    return BUTTONS[action]


def move_placeholder() -> str:
    return "Flyt til anden afdeling"


def confirm_no_reply() -> tuple[str, str, str, str]:
    """Title, text, confirm and deny of the "no reply needed" dialog."""
    return ("Luk uden svar?", "Henvendelsen lukkes, og borgeren får ikke svar.",
            "Ja, luk den", "Fortryd")


def confirm_approve() -> tuple[str, str, str, str]:
    return ("Send svaret?", "Svaret sendes til borgeren med det samme og kan ikke kaldes tilbage.",
            "Ja, send", "Fortryd")


MODAL_CLOSE = "Annuller"
DRAFT_MODAL = ("Skriv udkast", "Send til godkendelse")
EDIT_MODAL = ("Ret og godkend", "Godkend og send")
REJECT_MODAL = ("Afvis udkast", "Afvis")
MOVE_MODAL = ("Flyt henvendelse", "Flyt")


def reply_label() -> str:
    return "Dit svar til borgeren"


def reply_hint() -> str:
    return ("Skriv kort, venligt og i du-form. Kommunikationsenheden godkender svaret, "
            "før det bliver sendt. Skriv aldrig CPR-nummer eller andre følsomme oplysninger.")


def reject_label() -> str:
    return "Hvorfor afviser du udkastet?"


def reject_hint() -> str:
    return "Kommentaren vises i afdelingens tråd. Svarfristen løber stadig."


def move_text(route_name: str) -> str:
    return f"Flyt henvendelsen til *{route_name}*? Svarfristen er den samme som før."


def move_reason_label() -> str:
    return "Hvorfor hører den til der? (frivilligt)"


def move_reason_hint() -> str:
    return "Din forklaring hjælper os med at sende lignende henvendelser rigtigt næste gang."


def default_greeting(citizen_first_name: str) -> str:
    return f"Hej {citizen_first_name}" if citizen_first_name else "Hej"


def default_sign_off(first_name: str, municipality: str = "Albertslund Kommune") -> str:
    return f"Venlig hilsen {first_name + ', ' if first_name else ''}{municipality}"


def empty_reply_error() -> str:
    return "Skriv et svar, før du sender."


def reply_too_long_error(limit: int) -> str:
    return f"Svaret er for langt. Hold det under {limit} tegn."


# --- Statuses on cards (the workflow picks them) -----------------------------------------


def status_drafted(who: str) -> str:
    return f"✏️ Udkast fra {who} – afventer godkendelse"


def status_sending() -> str:
    return "⏳ Svaret er godkendt og bliver sendt …"


def status_answered(who: str, at: datetime, now: datetime, tz: str = DEFAULT_TIMEZONE) -> str:
    return f"✅ Besvaret – godkendt af {who} {day_name(at, now, tz)} {clock(at, tz)}"


def status_moved(who: str, route_name: str) -> str:
    return f"➡️ Flyttet til {route_name} af {who}"


def status_moved_here(who: str, from_route: str) -> str:
    return f"➡️ Flyttet hertil fra {from_route} af {who}"


def status_no_reply(who: str, reason: str = "") -> str:
    return f"🔕 Lukket uden svar af {who}" + (f": {reason}" if reason else "")


def status_closed_gone(reason: str) -> str:
    return f"🔕 Lukket uden svar: {reason}"


def status_rejected(who: str) -> str:
    return f"↩️ Udkastet blev afvist af {who} – skriv et nyt udkast i tråden"


def status_send_failed(reason: str) -> str:
    return f"❌ Svaret blev ikke sendt: {reason}"


def status_hidden(who: str) -> str:
    return f"🙈 Kommentaren er skjult af {who}"


SEND_FAILURES = {
    "gone": "Kommentaren eller samtalen findes ikke længere på platformen.",
    "auth": "Forbindelsen til platformen er udløbet. IT skal forny adgangen.",
    "rate_limited": "Platformen beder os vente lidt. Prøv igen om et par minutter.",
    "unavailable": "Platformen svarer ikke lige nu. Prøv igen om lidt.",
    "duplicate": ("Platformen afviser svaret, fordi kontoen allerede har sendt præcis den samme tekst "
                  "(X tillader ikke gentagne opslag). Ret teksten, fx med borgerens navn, og send igen."),
    "refused": "Platformen tillader ikke dette svar her. Svar borgeren direkte på platformen.",
}


def send_failure(kind: str) -> str:
    return SEND_FAILURES.get(kind, "Der skete en uventet fejl. Prøv igen, eller kontakt IT.")


# --- Thread messages, refusals, reminders ------------------------------------------------


def rejected_in_thread(who: str, comment: str) -> str:
    return (f"{who} har afvist udkastet: {comment}\n"
            "Svarfristen løber stadig. Skriv et nyt udkast her i tråden.")


def send_failed_in_thread(reason: str, *, closed: bool = False) -> str:
    then = ("Henvendelsen er derfor lukket." if closed else
            "Kommunikationsenheden kan rette teksten og sende igen fra godkendelsen, eller bede om et nyt udkast.")
    return f"Svaret kunne ikke sendes. {reason} {then}"


def refusal_not_comms() -> str:
    return ("Beklager, det er kun kommunikationsenheden, der kan godkende, rette og sende svar "
            "til borgere. Skriv til dem, hvis du mener, at det er en fejl.")


def refusal_state(state: str) -> str:
    return {
        "answered": "Henvendelsen er allerede besvaret. Der sker ikke mere.",
        "closed": "Henvendelsen er lukket. Der sker ikke mere.",
        "sending": "Svaret er allerede på vej til borgeren.",
    }.get(state, "Det kan du ikke gøre med henvendelsen lige nu. Genindlæs og prøv igen.")


def unexpected_error(incident: str) -> str:
    return f"Beklager, der skete en fejl hos os. Prøv igen om lidt. Fejlkode: {incident}"


def reminder(due: datetime, now: datetime, tz: str = DEFAULT_TIMEZONE) -> str:
    return f"⏰ Påmindelse: Henvendelsen mangler stadig et svar. {deadline_line(due, now, tz)}."


def approval_reminder(who: str) -> str:
    return f"⏰ Udkastet fra {who} venter stadig på godkendelse."


def send_failed_reminder() -> str:
    return "⏰ Det godkendte svar kunne ikke sendes og venter på, at I prøver igen fra godkendelsen."


def escalation(route_name: str, link: str) -> str:
    return f"🚨 Svarfristen er overskredet for en henvendelse hos {route_name}: {link}"


def urgent_alert(route_name: str, link: str, on_call: str | None) -> str:
    """`on_call` is a ready mention or escaped name of who is on call (or None)."""
    alert = f"🚨 Hastende henvendelse sendt til {route_name}: {link}"
    return f"{alert}\nVagthavende: {on_call}" if on_call else alert


# --- /borgerbot overview -----------------------------------------------------------------


def overview_title(everyone: bool) -> str:
    return "Alle åbne henvendelser efter afdeling" if everyone else "Dine åbne henvendelser"


def overview_empty() -> str:
    return "Der er ingen åbne henvendelser lige nu. 🎉"


def overview_more(count: int) -> str:
    return f"… og {count} flere"


# --- Added by the workflow: people, operator notices, reminders ---------------------------

_SLACK_ID = ("U", "W")


def person(user: str) -> str:
    """How a colleague is named in chat: a Slack mention for a user id, else our own name."""
    if user[:1] in _SLACK_ID and user[1:].isalnum() and user.isupper():
        return f"<@{user}>"
    return "borgerbot"


HIDE_MODAL = ("Skjul kommentar", "Skjul")
HIDE_REASONS = {
    "personal_data": "Personoplysninger eller CPR-nummer",
    "offensive": "Krænkende, racistisk eller groft sprog",
    "staff_named": "Nævner medarbejdere ved navn",
    "spam": "Reklame eller spam",
    "illegal": "Ulovligt indhold",
}
"""Reason codes from the page's debate rules; criticism and disagreement are never a reason."""


def hide_reason_label() -> str:
    return "Hvilken af debatreglerne bryder kommentaren?"


def hide_note_label() -> str:
    return "Kort begrundelse (gemmes i loggen)"


def hide_note_hint() -> str:
    return ("Kritik og uenighed er aldrig en grund til at skjule. Kommentaren skjules, ikke "
            "slettes, og kan vises igen.")


def team(group_id: str) -> str:
    """A mention of a department's Slack user group, so its members are notified."""
    return f"<!subteam^{group_id}>"


def slack_mention(slack_id: str) -> str | None:
    """A mention for a Slack user (U…, W…) or user group (S…) id, which notifies them; None
    for anything else (a name, a phone number)."""
    if not (slack_id[1:].isalnum() and slack_id.isupper()):
        return None
    if slack_id[:1] in _SLACK_ID:
        return f"<@{slack_id}>"
    return team(slack_id) if slack_id[:1] == "S" else None


def account_stopped(platform: str, account: str) -> str:
    name = PLATFORMS.get(platform, platform)
    return (f"⛔ borgerbot kan ikke længere hente henvendelser fra {name} ({account}): adgangen er "
            "udløbet eller mangler en tilladelse. Bed IT forny adgangen. Indtil da kommer der "
            "ingen nye henvendelser fra den konto.")


def deadline_reminder(who: str | None, due: datetime, now: datetime, tz: str = DEFAULT_TIMEZONE) -> str:
    greeting = f"{who} " if who else ""
    return f"{greeting}{reminder(due, now, tz)}"


def deadline_missed(due: datetime, now: datetime, tz: str = DEFAULT_TIMEZONE) -> str:
    return (f"🚨 Svarfristen er overskredet ({day_name(due, now, tz)} {clock(due, tz)}). "
            "Kommunikationsenheden er orienteret.")


# --- Slack retries, edits, deletes and throttling (issue 12, slackevents) -----------------------


def refusal_draft_changed() -> str:
    return ("Udkastet er blevet ændret eller slettet, siden du så det. Godkendelsesanmodningen "
            "er opdateret: læs det nye udkast, og godkend igen.")


def refusal_try_again_soon() -> str:
    return ("Slack kan ikke fortælle os lige nu, om du er med i kommunikationsenheden. "
            "Prøv igen om lidt.")


def files_not_sent() -> str:
    return ("📎 Filer og billeder sendes ikke til borgeren; kun teksten i beskeden er en del af "
            "udkastet. Skriv et link i teksten, hvis borgeren skal se noget.")


def draft_withdrawn(who: str) -> str:
    return f"🗑️ {who} slettede udkastet i Slack. Det er trukket tilbage og kan ikke godkendes."


# --- Slack drafts that cannot reach a citizen as written (bot.chat.slack_text) -------------

def draft_has_internal_mention(shown: str) -> str:
    """A channel, group or @here/@channel mention in a draft: meaningless to a citizen."""
    return (f"Dit udkast blev ikke sendt til godkendelse: det nævner {shown}, som kun giver mening i "
            "Slack. Skriv det om uden omtalen, så borgeren kan læse det.")


def draft_has_unknown_person() -> str:
    return ("Dit udkast blev ikke sendt til godkendelse: det nævner en person, hvis navn borgerbot "
            "ikke kan slå op i Slack. Skriv navnet som almindelig tekst i stedet for en @-omtale.")


def draft_has_custom_emoji(name: str) -> str:
    return (f"Dit udkast blev ikke sendt til godkendelse: emojien :{name}: findes kun i jeres "
            "Slack, og borgeren kan ikke se den. Fjern den eller brug en almindelig emoji.")


# -- issue 13, tokens and limits: a platform's usage cap pauses an account ---------------------


def usage_capped(platform: str, account: str, until: datetime, tz: str = DEFAULT_TIMEZONE) -> str:
    """Told once per cap: X refuses every read until the monthly cap resets or credits are
    bought, and borgerbot tries again by itself about once an hour."""
    name = PLATFORMS.get(platform, platform)
    return (f"⏸️ {name} ({account}) har brugt kontoens månedlige kvote eller forudbetalte kreditter "
            f"hos {name}, så borgerbot henter ikke nye henvendelser derfra lige nu. borgerbot "
            f"prøver igen af sig selv (næste gang {clock(until, tz)}) og fortsætter, så "
            f"snart {name} åbner igen. Bed IT købe kreditter eller hæve grænsen i {name}s "
            "udviklerportal, hvis det ikke kan vente.")


# --- retention: what chat shows once an inquiry is anonymised (bot.retention_chat) ---------


def chat_anonymised(days: int) -> str:
    """Replaces a card, approval request or thread note whose inquiry retention anonymised."""
    return (f"🗑️ Henvendelsen er anonymiseret efter {days} dage. "
            "Borgerens navn og tekst er slettet efter reglerne for opbevaring af persondata.")


# --- Intake that never stops (issue 13, intake) -------------------------------------------

KINDS["post"] = "Opslag fra en borger"


def item_set_aside(platform: str, account: str, external_id: str) -> str:
    """An item borgerbot could not store: a person must look at it. Ids come escaped."""
    name = PLATFORMS.get(platform, platform)
    ident = f" (id {external_id})" if external_id != "?" else ""
    return (f"⚠️ En henvendelse fra {name} ({account}){ident} kunne ikke modtages, fordi "
            "platformen sendte den i en form, borgerbot ikke kender. Se efter den på platformen og "
            "svar der, og bed IT se i loggen. De andre henvendelser hentes som normalt.")


def urgent_alert_without_card(route_name: str, on_call: str | None) -> str:
    """An urgent inquiry whose department card is not in chat (yet): the unit acts now."""
    alert = (f"🚨 Hastende henvendelse til {route_name}. Kortet kunne endnu ikke vises i "
             "afdelingens kanal; se henvendelsen på platformen og reager nu.")
    return f"{alert}\nVagthavende: {on_call}" if on_call else alert


def cards_not_posted(channel: str, problem: str) -> str:
    """A department's cards cannot be posted; `channel` and `problem` come escaped."""
    return (f"⚠️ borgerbot kan ikke vise nye henvendelser i {channel} (Slack svarer: {problem}). "
            "Henvendelserne venter i borgerbot og vises, så snart fejlen er rettet: bed IT "
            "kontrollere, at kanalen findes, og at botten er inviteret i den (/invite @borgerbot).")


# --- Configuration that cannot work (issue 13, rulesconfig) --------------------------------
# Shown to IT next to the English line when `borgerbot rules check` or the start refuses a
# set-up; the communication officer who maintains routing_rules.yaml reads the Danish.

NO_APPROVERS = ("Ingen kan godkende svar: skriv kommunikationsmedarbejdernes Slack-id'er under "
                "chat.officers, fx officers: [U012ABC, U034DEF], eller en Slack-brugergruppe "
                "under chat.officer_group, fx officer_group: S0123ABCD")


def channel_missing(channel: str) -> str:
    return (f"Slack-kanalen {channel} findes ikke: opret den i Slack, eller ret kanalnavnet i "
            "routing_rules.yaml")


def bot_not_in_channel(channel: str) -> str:
    return (f"borgerbot er ikke medlem af Slack-kanalen {channel}: skriv /invite @borgerbot i "
            "kanalen")


# --- Chat refused a message, or the bot itself (outbox; issue 12) ------------------------

_CHAT_REFUSALS = {
    "msg_too_long": "Slack afviser beskeden, fordi den er for lang.",
    "msg_blocks_too_long": "Slack afviser beskeden, fordi den er for lang.",
    "invalid_blocks": "Slack kan ikke vise beskeden (en fejl i borgerbot). Giv IT besked.",
    "invalid_blocks_format": "Slack kan ikke vise beskeden (en fejl i borgerbot). Giv IT besked.",
    "no_text": "Slack kan ikke vise beskeden (en fejl i borgerbot). Giv IT besked.",
    "channel_not_found": ("Kanalen {channel} findes ikke, eller borgerbot er ikke med i den. "
                          "Tjek kanalnavnet i routing_rules.yaml, eller invitér borgerbot i kanalen."),
    "not_in_channel": "borgerbot er ikke med i {channel}. Skriv /invite @borgerbot i kanalen.",
    "is_archived": ("Kanalen {channel} er arkiveret. Genåbn den, eller giv afdelingen en anden "
                    "kanal i routing_rules.yaml."),
}


def chat_refused(what: str, channel: str, code: str) -> str:
    """To the unit: chat refused one message for good; what to do, and that nothing is lost."""
    why = _CHAT_REFUSALS.get(code, "Slack afviser beskeden ({code}). Giv IT besked.")
    return (f"⚠️ borgerbot kunne ikke vise {what} i {channel}. {why.format(channel=channel, code=code)} "
            "borgerbot prøver igen af sig selv, og de andre beskeder i kanalen kommer frem som normalt.")


def chat_refused_what(inquiry_id: int | None) -> str:
    return f"beskeden om henvendelse #{inquiry_id}" if inquiry_id is not None else "en besked"


def chat_back(code: str, since: datetime, now: datetime, tz: str = DEFAULT_TIMEZONE) -> str:
    """To the unit once Slack takes the bot again: what happened, and that nothing was lost."""
    return (f"✅ borgerbot er tilbage i Slack. Slack afviste borgerbots adgang ({code}) fra "
            f"{day_name(since, now, tz)} {clock(since, tz)}. Alt, der ventede, kommer nu frem; "
            "intet er gået tabt. Tjek gerne godkendelseskanalen.")
