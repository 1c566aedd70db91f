"""Street-address spellings that mean the same thing, after USPS Publication 28.

Each table maps a canonical short form (what goes into an address key) to the
spellings a page may use instead: ``St``/``Street``/``Str``, ``N``/``North``.
Appendix C1 (street suffixes), C2 (secondary unit designators) and the
directionals of section 233, plus a few British suffixes, the US states and
the Canadian provinces and territories (Canada Post's two-letter symbols).
Pages also write a dot after an abbreviation; the matcher allows it.

Numbered streets (:data:`ORDINALS`, 1st to 99th) are spelled either way in
a street name only: a watched "Fifth Avenue" is found as "5th Ave" and the
reverse, while "1st" and "first" in prose stay what they are.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

_SUFFIX_ROWS = """
aly alley allee ally
anx annex anex annx
arc arcade
ave avenue av aven avenu avn avnue
byu bayou bayoo
bch beach
bnd bend
blf bluff bluf
btm bottom bot bottm
blvd boulevard boul boulv
br branch brnch
brg bridge brdge
brk brook
byp bypass bypa bypas byps
cp camp cmp
cyn canyon canyn cnyn
cpe cape
cswy causeway causwa
ctr center centre cen cent centr cnter cntr
cir circle circ circl crcl crcle
cl close
clf cliff
clfs cliffs
clb club
cmn common
cor corner
cors corners
crse course
ct court crt
cts courts
cv cove
crk creek
cres crescent crsent crsnt
crst crest
xing crossing crssng
xrd crossroad
curv curve
dl dale
dm dam
dr drive driv drv
est estate
ests estates
expy expressway exp expr express expw
ext extension extn extnsn
fls falls
fry ferry frry
fld field
flds fields
flt flat
frst forest forests
frg forge forg
frk fork
ft fort frt
fwy freeway freewy frway frwy
gdn garden gardn grden grdn
gdns gardens grdns
gtwy gateway gatewy gatway gtway
gln glen
grn green
grv grove grov gr
hbr harbor harbour harb harbr hrbor
hvn haven
hts heights ht
hwy highway highwy hiway hiwy hway
hl hill
hls hills
holw hollow hllw hollows holws
inlt inlet
is island islnd
iss islands islnds
jct junction jctn junctn juncton
ky key
knl knoll knol
lk lake
lks lakes
lndg landing lndng
ln lane
lgt light
loop loops
mall
mnr manor
mdw meadow
mdws meadows medows
mews
ml mill
mls mills
msn mission missn mssn
mtwy motorway
mt mount mnt
mtn mountain mntain mntn mountin mtin
orch orchard orchrd
oval ovl
pde parade
park prk parks
pkwy parkway parkwy pkway pky parkways pkwys
pass
path paths
pike pikes
pne pine
pnes pines
pl place
pln plain
plns plains
plz plaza plza
pt point
pts points
prt port
pr prairie prr
qy quay
rnch ranch ranches rnchs
rdg ridge rdge
rise
riv river rvr rivr
rd road
rds roads
rte route
row
run
shr shore shoar
shrs shores shoars
skwy skyway
spg spring spng sprng
spgs springs
sq square sqr sqre squ
sta station statn stn
strm stream streme
st street strt str
sts streets
smt summit sumit sumitt
ter terrace terr tce
trce trace traces
trak track tracks trk trks
trl trail trails trls
tunl tunnel tunel tunls tunnels tunnl
tpke turnpike trnpk turnpk
un union
vly valley vally vlly
vw view
vlg village vill villag villg
vl ville
vis vista vist vst vsta
walk walks
way wy
whf wharf
wl well
wls wells
"""

_DIRECTIONAL_ROWS = """
n north
s south
e east
w west
ne northeast north-east
nw northwest north-west
se southeast south-east
sw southwest south-west
"""

_UNIT_ROWS = """
apt apartment
bldg building
bsmt basement
dept department
fl floor
flat
frnt front
lot
ofc office
ph penthouse
rm room
spc space
ste suite
trlr trailer
unit
"""

_STATE_ROWS = """
al alabama
ak alaska
az arizona
ar arkansas
ca california
co colorado
ct connecticut
de delaware
dc district-of-columbia
fl florida
ga georgia
hi hawaii
id idaho
il illinois
in indiana
ia iowa
ks kansas
ky kentucky
la louisiana
me maine
md maryland
ma massachusetts
mi michigan
mn minnesota
ms mississippi
mo missouri
mt montana
ne nebraska
nv nevada
nh new-hampshire
nj new-jersey
nm new-mexico
ny new-york
nc north-carolina
nd north-dakota
oh ohio
ok oklahoma
or oregon
pa pennsylvania
pr puerto-rico
ri rhode-island
sc south-carolina
sd south-dakota
tn tennessee
tx texas
ut utah
vt vermont
va virginia
wa washington
wv west-virginia
wi wisconsin
wy wyoming
ab alberta
bc british-columbia
mb manitoba
nb new-brunswick
nl newfoundland newfoundland-and-labrador
ns nova-scotia
nt northwest-territories
nu nunavut
on ontario
pe prince-edward-island pei
qc quebec que
sk saskatchewan
yt yukon
"""


_ORDINAL_UNITS = "first second third fourth fifth sixth seventh eighth ninth".split()
_ORDINAL_TEENS = "tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINAL_TENS = "twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth".split()


def _ordinal_rows() -> dict[str, tuple[str, ...]]:
    """``"21st" -> ("21st", "twenty first")`` for 1st to 99th; a page may also write "twenty-first"."""
    rows: dict[str, tuple[str, ...]] = {}
    for n in range(1, 100):
        tens, unit = divmod(n, 10)
        ending = "th" if tens == 1 or unit > 3 or unit == 0 else ("st", "nd", "rd")[unit - 1]
        if n < 10:
            word = _ORDINAL_UNITS[n - 1]
        elif n < 20:
            word = _ORDINAL_TEENS[n - 10]
        else:
            word = _ORDINAL_TENS[tens - 2] if unit == 0 else f"{_TENS[tens - 2]} {_ORDINAL_UNITS[unit - 1]}"
        rows[f"{n}{ending}"] = (f"{n}{ending}", word)
    return rows


def _table(rows: str) -> dict[str, tuple[str, ...]]:
    """``canonical -> (canonical, spelling, ...)``; a hyphen in a spelling stands for a space."""
    table: dict[str, tuple[str, ...]] = {}
    for line in rows.strip().splitlines():
        canonical, *others = line.split()
        table[canonical] = (canonical, *(o.replace("-", " ") for o in others))
    return table


SUFFIXES: Mapping[str, tuple[str, ...]] = _table(_SUFFIX_ROWS)
DIRECTIONALS: Mapping[str, tuple[str, ...]] = _table(_DIRECTIONAL_ROWS)
UNITS: Mapping[str, tuple[str, ...]] = _table(_UNIT_ROWS)
STATES: Mapping[str, tuple[str, ...]] = _table(_STATE_ROWS)
#: Numbered streets: "5th" and "Fifth", "21st" and "Twenty-First" (1st to 99th), for street names only.
ORDINALS: Mapping[str, tuple[str, ...]] = _ordinal_rows()


def _reverse(table: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {spelling: canonical for canonical, spellings in table.items() for spelling in spellings}


_CANONICAL = {
    "suffix": _reverse(SUFFIXES),
    "directional": _reverse(DIRECTIONALS),
    "unit": _reverse(UNITS),
    "state": _reverse(STATES),
    "ordinal": _reverse(ORDINALS),
}
_TABLES = {"suffix": SUFFIXES, "directional": DIRECTIONALS, "unit": UNITS, "state": STATES, "ordinal": ORDINALS}


def canonical(table: str, word: str) -> str | None:
    """The canonical short form of ``word`` in ``table`` ("Street" -> "st"), or None."""
    key = " ".join(word.lower().replace(".", " ").replace("-", " ").split())
    return _CANONICAL[table].get(key)


@functools.lru_cache(maxsize=4096)
def spellings_regex(table: str, canonical_form: str) -> str:
    """A regex for every spelling of ``canonical_form``, each optionally followed by a dot."""
    return alternatives(_TABLES[table].get(canonical_form, (canonical_form,)))


@functools.lru_cache(maxsize=None)
def any_regex(table: str) -> str:
    """A regex for any spelling in ``table`` (e.g. any unit designator)."""
    return alternatives(s for spellings in _TABLES[table].values() for s in spellings)


def alternatives(spellings: Iterable[str]) -> str:
    """Whole-word alternatives, longest first, flexible whitespace, optional trailing dot."""
    unique = sorted(set(spellings), key=lambda s: (-len(s), s))
    parts = [r"\s+".join(re.escape(w) for w in s.split()) for s in unique]
    return r"(?:" + "|".join(parts) + r")\b\.?"


@functools.lru_cache(maxsize=256)
def ordinal_regex(canonical_form: str) -> str:
    """A regex for every spelling of a numbered street ("5th" -> 5th or fifth; "21st" -> also "twenty-first").

    No trailing dot and no word boundary: the street name's pattern adds its own.
    """
    parts = [r"(?:\s*-\s*|\s+)".join(re.escape(w) for w in s.split()) for s in ORDINALS[canonical_form]]
    return "(?:" + "|".join(sorted(parts, key=lambda p: (-len(p), p))) + ")"


def ordinal_words(canonical_form: str) -> tuple[str, ...]:
    """The first word of each spelling of a numbered street ("21st" -> "21st", "twenty"): what a page is scanned
    for. Whatever separates "twenty" and "first" (a space, a hyphen, a line break), "twenty" stands alone."""
    return tuple(dict.fromkeys(s.split()[0] for s in ORDINALS[canonical_form]))
