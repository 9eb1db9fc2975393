"""Word lists and patterns behind answer typing: general English and world knowledge only."""

from __future__ import annotations

import re

from qa_app.text_norm import STOPWORDS

DATE, NUMBER, PERSON, PLACE, ENTITY, THING, REASON = (
    "date",
    "number",
    "person",
    "place",
    "entity",
    "thing",
    "reason",
)
TYPED = frozenset({DATE, NUMBER, PERSON, PLACE, ENTITY})  # kinds where a bare sentence is a miss


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _classes(**groups: str) -> dict[str, str]:
    return {w: kind for kind, words in groups.items() for w in words.split()}


# The head noun of "which/what X" → the kind of answer it asks for.
CLASS_NOUNS = _classes(
    person="""person people man woman men women spokesman spokeswoman spokesperson official officials
    leader leaders president minister secretary director chancellor general commander ambassador
    diplomat envoy senator lawmaker politician candidate founder ceo chief head author writer player
    actor actress singer artist scientist king queen emperor pope prince princess governor mayor
    judge reporter journalist analyst spy soldier member members individual individuals premier
    chairman coach inventor composer poet architect doctor teacher student owner manager executive
    successor predecessor wife husband son daughter father mother counterpart adviser advisor aide
    philosopher ruler monarch trader explorer mathematician physicist chemist painter novelist
    economist historian saint god goddess engineer designer pilot commentator
    deputy representative""",
    entity="""name company companies organization organisation organizations organisations group
    groups agency agencies airline airlines newspaper newspapers outlet firm firms bank banks
    university team party network channel magazine publication institution department ministry
    government administration council committee court army militia brand treaty award prize war
    battle festival album song book film movie novel opera play ship mission dynasty empire""",
    place="""country countries nation nations city cities state states region regions town towns
    village place places capital continent province location island river mountain port airport
    airfield border district county""",
    date="year years date dates day days month months decade century season period era weekday",
    number="""percentage percent proportion share fraction number amount quantity sum price cost
    radius distance length height width depth population size range speed weight age temperature
    rate total budget salary value capacity volume duration toll count""",
)
FOCUS_SKIP = _words("is was are were the a an of kind type sort exact")
DO_AUX = _words("did does do has have had will would can could should might must may")
TITLES = _words(
    """president vice prime minister secretary director chancellor spokesman spokeswoman
    spokesperson senator sen rep representative governor gov mayor king queen prince princess pope
    general gen col lt admiral adm ambassador chairman chairwoman chair chief commissioner dr mr mrs
    ms prof professor judge justice sheikh ayatollah deputy leader ceo officer commander premier
    speaker attorney cardinal bishop rabbi lord lady sir dame captain capt sgt sergeant lieutenant
    colonel editor founder coach manager executive counsel inspector envoy state foreign defense
    defence home interior treasury finance health press national security council department
    ministry office"""
)
ORG_HEADS = _words(
    """department ministry council office house agency committee commission court bank service
    administration government army forces police journal times post news"""
)
CHUNK_OPENERS = _words(
    "a an the other another its their his her our these those this some several many more most all both each every such"
)
AUXILIARIES = _words(
    "has have had is are was were be been being will would can could should may might must to did does do not"
)
NAME_CONNECTORS = _words("of de da del der van von bin al la le du y &")
BOUNDARY = STOPWORDS | _words(
    """said says say told tell stated added noted including regarding despite amid among toward
    towards across within without via per like unlike since because though although however
    whether also already still even just only now then later earlier recently yet instead rather
    often never always well far much more less most least many several such would could should
    may might must can will shall"""
)
_MONTH_NAMES = (
    "January February March April May June July August September October November December"
)
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
_MONTH_ABBR = "Jan Feb Mar Apr Jun Jul Aug Sept Sep Oct Nov Dec"
MONTHS_WEEKDAYS = _words(
    f"{_MONTH_NAMES} {_WEEKDAYS} " + " ".join(a + "." for a in _MONTH_ABBR.split())
)
ABBREVIATIONS = (
    "Mr|Mrs|Ms|Dr|St|Jr|Sr|Gen|Sen|Rep|Gov|Lt|Col|Capt|Sgt|Prof|Mt|Ft|Inc|Corp|Ltd|Co|No|vs|"
    + "|".join(_MONTH_ABBR.split())
)
# Sovereign states, common short forms and regions: a name found here is a place, not a person.
PLACES = frozenset(
    """Afghanistan|Albania|Algeria|Andorra|Angola|Argentina|Armenia|Australia|Austria|Azerbaijan|
    Bahamas|Bahrain|Bangladesh|Barbados|Belarus|Belgium|Belize|Benin|Bhutan|Bolivia|Bosnia|Botswana|
    Brazil|Brunei|Bulgaria|Burkina Faso|Burundi|Cambodia|Cameroon|Canada|Chad|Chile|China|Colombia|
    Comoros|Congo|Costa Rica|Croatia|Cuba|Cyprus|Czech Republic|Czechia|Denmark|Djibouti|Dominica|
    Ecuador|Egypt|El Salvador|Eritrea|Estonia|Eswatini|Ethiopia|Fiji|Finland|France|Gabon|Gambia|
    Georgia|Germany|Ghana|Greece|Grenada|Guatemala|Guinea|Guyana|Haiti|Honduras|Hungary|Iceland|India|
    Indonesia|Iran|Iraq|Ireland|Israel|Italy|Jamaica|Japan|Jordan|Kazakhstan|Kenya|Kiribati|Kosovo|
    Kuwait|Kyrgyzstan|Laos|Latvia|Lebanon|Lesotho|Liberia|Libya|Liechtenstein|Lithuania|Luxembourg|
    Madagascar|Malawi|Malaysia|Maldives|Mali|Malta|Mauritania|Mauritius|Mexico|Moldova|Monaco|
    Mongolia|Montenegro|Morocco|Mozambique|Myanmar|Namibia|Nauru|Nepal|Netherlands|New Zealand|
    Nicaragua|Niger|Nigeria|North Korea|North Macedonia|Norway|Oman|Pakistan|Palau|Palestine|Panama|
    Papua New Guinea|Paraguay|Peru|Philippines|Poland|Portugal|Qatar|Romania|Russia|Rwanda|Samoa|
    San Marino|Saudi Arabia|Senegal|Serbia|Seychelles|Sierra Leone|Singapore|Slovakia|Slovenia|
    Somalia|South Africa|South Korea|South Sudan|Spain|Sri Lanka|Sudan|Suriname|Sweden|Switzerland|
    Syria|Taiwan|Tajikistan|Tanzania|Thailand|Togo|Tonga|Tunisia|Turkey|Turkmenistan|Tuvalu|Uganda|
    Ukraine|United Arab Emirates|United Kingdom|United States|Uruguay|Uzbekistan|Vanuatu|Vatican|
    Venezuela|Vietnam|Yemen|Zambia|Zimbabwe|U.S.|US|USA|U.S.A.|America|U.K.|UK|Britain|
    Great Britain|England|Scotland|Wales|Europe|Asia|Africa|Antarctica|Australia|North America|
    South America|Latin America|Middle East|Gaza|West Bank|Crimea|Kashmir|Tibet|Hong Kong|Scandinavia|
    Balkans|Caribbean|Arctic|EU""".replace("\n", "")
    .replace("    ", "")
    .split("|")
)
UNIT_HINTS = {
    "time": re.compile(r"(?i)\b(year|month|week|day|hour|minute|second|decade|centur)"),
    "percent": re.compile(r"(?i)(percent|per cent|%|percentage)"),
    "money": re.compile(r"(?i)([$€£¥₹]|dollar|euro|pound|rupee|yuan|yen|cent)"),
}
_MONTH = (
    r"(?:(?:"
    + "|".join(_MONTH_NAMES.split())
    + r")(?!\w)|(?:"
    + "|".join(_MONTH_ABBR.split())
    + r")\.)"
)
_YEAR = r"(?:1[5-9]|20)\d\d"
DATE_PATTERN = rf"""
(?P<explicit>
    (?:(?i:early|mid|late)[-\s])? {_MONTH} (?:\s\d{{1,2}}(?:st|nd|rd|th)?(?!\d))? (?:,?\s{_YEAR}(?!\d))?
  | \d{{1,2}}(?:st|nd|rd|th)?\s{_MONTH}(?:,?\s{_YEAR}(?!\d))?
  | (?:{_WEEKDAYS.replace(" ", "|")}) (?:,?\s{_MONTH}\s\d{{1,2}}(?!\d))? (?:,?\s{_YEAR}(?!\d))?
    (?:\s(?i:morning|afternoon|evening|night))?
  | (?:(?i:early|mid|late)[-\s]|(?i:the)\s)? (?<![\d,.$€£¥₹/-]) {_YEAR}
    (?:s|[-–](?:{_YEAR}|\d\d))? (?![\d,/]|\.\d|\s?%|\s(?i:percent)|-\w)
  | (?i:between|from)\s{_YEAR}\s(?:and|to)\s{_YEAR}
  | {_YEAR}/(?:{_YEAR}|\d\d)(?!\d)
  | (?:the\s)?\d{{1,2}}(?:st|nd|rd|th)[-\s](?i:century|centuries)
  | \d{{4}}-\d{{2}}-\d{{2}} | \d{{1,2}}/\d{{1,2}}/\d{{2,4}}
  | \d{{1,2}}(?::\d{{2}})?\s?(?i:a\.m\.|p\.m\.|am\b|pm\b)
  | (?i:noon|midnight)\b
)
| (?P<relative>(?i:
    (?:(?:earlier|later|early|late)\s)?
    (?:this|last|next|that|the\s(?:same|previous|following|past|coming))\s
    (?:week|weekend|month|year|spring|summer|fall|autumn|winter|morning|afternoon|evening|night|day|decade|century|season|quarter)s?
  | (?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|a\sfew|few|many)\s
    (?:days?|weeks?|months?|years?|decades?|centuries|hours?|minutes?)\s(?:ago|earlier|later|before|after)
  | yesterday|today|tomorrow|tonight|overnight
  | the\s(?:weekend|summer|spring|fall|autumn|winter)
  | within\s(?:(?:a|the\s(?:next|coming))\s)?(?:days?|weeks?|months?|years?|hours?)
  | the\s(?:coming|next|past|last|previous)\s(?:few\s)?(?:days|weeks|months|years|decades)
  | recent\s(?:days|weeks|months|years)
)\b)
| (?P<vague>\b(?i:recently|previously|soon)\b)
"""
_UNITS = r"""(?:square\s|cubic\s)?(?:miles?|kilomet(?:er|re)s?|km|meters?|metres?|feet|foot|ft|inches|inch|
    yards?|acres?|hectares?)|per\s?cent|percent(?:age\s+points?)?|dollars?|euros?|pounds?|pence|cents?|
    rupees?|yuan|yen|tons?|tonnes?|kilograms?|kg|grams?|lbs?|ounces?|barrels?|gallons?|lit(?:er|re)s?|
    degrees?|years?(?:\s+old)?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|people|
    persons?|troops|soldiers|civilians|votes|seats|times|members|residents|casualties|deaths"""
NUMBER_PATTERN = rf"""
(?<![\w.,/-])
(?:(?i:about|approximately|around|nearly|almost|roughly|some|over|under|more\sthan|less\sthan|
    fewer\sthan|at\sleast|at\smost|up\sto|as\s(?:many|much|few|little)\sas|an\sestimated|
    just\s(?:over|under)|close\sto|well\sover|upwards\sof)\s)?
(?P<num>
    [$€£¥₹]\s?\d+(?:[,.]\d+)*
  | \d+(?:,\d{{3}})*(?:\.\d+)?(?:(?:\sto\s|[-–])\d+(?:,\d{{3}})*(?:\.\d+)?)?(?:\s\d/\d)?(?![\w/]|[.,]\d)
  | (?i:hundreds|thousands|millions|billions|dozens|tens)(?:\sof\s(?i:thousands|millions))?\b
  | (?i:several|a\sfew|a\sdozen|a\shundred|a\sthousand|one|two|three|four|five|six|seven|eight|nine|
    ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)
    (?:[-\s](?i:one|two|three|four|five|six|seven|eight|nine)(?!\w))?\b
)
(?P<scale>\s(?i:hundred|thousand|million|billion|trillion)\b)?
(?:
    (?P<hyphen>-[a-z]+)
  | (?P<unit>\s?%|\s(?i:{_UNITS})\b)
  | (?P<noun>\s(?:of\s)?[a-z][a-z-]{{2,}})
)?
"""
