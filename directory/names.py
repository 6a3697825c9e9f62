"""Names as people read them, from names as registers write them.

FINESS raisons sociales are upper case, shortened to fit 38 characters (« CTRE », « HOP »,
« MAIS. DE RETRAITE ») and, in the FHIR conversion, still CSV-escaped when they held
quotes (``"EHPAD ""MARC ROCHER""\"``). :func:`unquote` repairs the escaping (the official
name keeps the register's words), :func:`display_name` gives a normal-case name with the
usual abbreviations spelled out and acronyms kept (``EHPAD``, ``CMP``, ``UDAF 43``).
"""

from __future__ import annotations

import re

#: FINESS abbreviations spelled out in display names (folded upper-case key, dot-less).
ABBREVIATIONS = {
    "CTRE": "centre", "CENT": "centre", "HOP": "hôpital", "HOSP": "hospitalier",
    "MAIS": "maison", "RES": "résidence", "RESID": "résidence", "ST": "Saint",
    "STE": "Sainte", "PHIE": "pharmacie", "LABO": "laboratoire", "SCE": "service",
    "SERV": "service", "ASSO": "association", "ASS": "association", "ACCOMP": "accompagnement",
    "APPART": "appartement", "HEBGT": "hébergement", "HEBERGT": "hébergement",
    "TEMP": "temporaire", "DEPT": "départemental", "DEPTAL": "départemental",
    "ETAB": "établissement", "ETS": "établissement", "AUX": "auxiliaire", "MENAG": "ménagère",
    "DOM": "domicile", "INVEST": "investigation", "ORIENT": "orientation", "ED": "éducative",
    "ACC": "accueil", "HAND": "handicapés", "PERS": "personnes", "AG": "âgées",
    "READAPT": "réadaptation", "REEDUC": "rééducation", "MED": "médical",
}
#: Words written with their accents (folded upper-case key).
ACCENTED = {
    "SANTE": "santé", "SPECIALISE": "spécialisé", "SPECIALISEE": "spécialisée",
    "RESIDENCE": "résidence", "AGEES": "âgées", "AGES": "âgés", "HOPITAL": "hôpital",
    "ETABLISSEMENT": "établissement", "MEDICAL": "médical", "MEDICALE": "médicale",
    "MEDICALISE": "médicalisé", "MEDICALISEE": "médicalisée", "MEDICO": "médico",
    "THERAPEUTIQUE": "thérapeutique", "REEDUCATION": "rééducation",
    "READAPTATION": "réadaptation", "HEBERGEMENT": "hébergement",
    "DEPENDANTES": "dépendantes", "HANDICAPES": "handicapés", "PERSONNES": "personnes",
    "REPIT": "répit", "ECOLE": "école", "UNITE": "unité", "EDUCATIF": "éducatif",
    "EDUCATIVE": "éducative", "MEDECINE": "médecine", "PREVENTION": "prévention",
    "DEPARTEMENTAL": "départemental", "DEPARTEMENTALE": "départementale",
    "PROTEGE": "protégé", "REGIONAL": "régional", "REGIONALE": "régionale",
    "SECURITE": "sécurité", "GENERAL": "général", "GENERALE": "générale",
    "ELEVES": "élèves", "ENFANCE": "enfance", "PEDIATRIE": "pédiatrie",
    "GERIATRIE": "gériatrie", "GERONTOLOGIE": "gérontologie", "PSYCHIATRIQUE": "psychiatrique",
    "SOLIDARITE": "solidarité", "ALZHEIMER": "Alzheimer", "MISERICORDE": "Miséricorde",
}
#: Acronyms that contain vowels and would otherwise be read as words.
ACRONYMS = frozenset({
    "EHPAD", "SSIAD", "CMP", "CMPP", "CSAPA", "CAARUD", "CLIC", "CHRS", "CADA", "IME", "ESAT",
    "MAS", "FAM", "SAAD", "SAD", "SPASAD", "SAVS", "SAMSAH", "SESSAD", "CAMSP", "ITEP", "DITEP",
    "USLD", "SSR", "HAD", "ADMR", "ADAPEI", "APAJH", "APF", "UDAF", "CCAS", "CIAS", "PMI",
    "CATTP", "LHSS", "ACT", "GCS", "SARL", "SAS", "SELAS", "SELARL", "EURL", "SA", "SCP",
    "SNC", "LBM", "EPEAP", "ASEA", "CPO", "AEMO", "IEM", "IES", "EEAP", "MSP", "CH", "CHU",
    "CHS", "CHR", "CHI", "EMERA", "GRETA", "IFSI", "IFAS", "CRF", "DAC", "CPTS", "MDPH",
    "PFR", "AGBF", "DPF", "UGECAM", "MGEN", "ORPEA", "KORIAN", "PASA", "UHR", "EPHAD",
    "CEGIDD", "CLAT", "CDAG", "ANPAA", "AIDES", "ISATIS", "SIAD", "EHPA", "SAMU", "SMUR",
    "AURA", "URPS", "CPAM", "CAF", "MSA", "CARSAT", "UNA", "PCPE", "EMG", "EMSP",
    "CRTS", "IRTS", "CIO", "FJT", "SIAO", "CPH", "HUDA", "PRAHDA", "AVDL",
})
_SMALL = frozenset({"de", "du", "des", "la", "le", "les", "et", "en", "sur", "sous", "aux",
                    "au", "à", "a", "pour", "par", "l", "d"})
_ROMAN = re.compile(r"^(?=[IVXLC])M*(C[MD]|D?C{0,3})(X[CL]|L?X{0,3})(I[XV]|V?I{0,3})$")
_TOKEN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ0-9]+|[^A-Za-zÀ-ÖØ-öø-ÿ0-9]+")
_FOLD = str.maketrans("ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜ", "AAACEEEEIIOOUUU")


def unquote(value: str) -> str:
    """Undo CSV quote escaping and write the quoted part between French quotes.

    ``"EHPAD ""MARC ROCHER""\"`` → ``EHPAD « MARC ROCHER »``; ``"FOYER HEBGT TEMP.""LES
    BERGES""\"`` → ``FOYER HEBGT TEMP. « LES BERGES »``. A value without quotes is only
    stripped, and spaces are collapsed. A lone quote left over is dropped: a name never
    keeps doubled or unbalanced quotes.
    """
    text = value.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"' and '""' in text[1:-1] \
            or (len(text) >= 2 and text[0] == '"' and text[-1] == '"' and '"' not in text[1:-1]):
        text = text[1:-1]
    text = text.replace('""', '"')
    text = re.sub(r'\s*"\s*([^"]+?)\s*"\s*', lambda m: f" « {m.group(1)} » ", text)
    text = text.replace('"', " ")
    return re.sub(r"\s+", " ", text).strip()


def _word(word: str, *, first: bool) -> str:
    key = word.upper().translate(_FOLD)
    if key in ABBREVIATIONS:
        out = ABBREVIATIONS[key]
    elif word.upper() in ACRONYMS or key in ACRONYMS or _ROMAN.match(word.upper()) \
            and len(word) > 1:
        return word.upper()
    elif not re.search(r"[AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜaeiouy]", word) and word.isalpha():
        return word.upper()          # no vowel: an acronym (CH, CHS, MSP, LBM)
    elif key in ACCENTED:
        out = ACCENTED[key]
    elif word.isdigit():
        return word
    else:
        out = word.lower()
    if not first and out.lower() in _SMALL:
        return out.lower()
    return out[0].upper() + out[1:] if out else out


def display_name(official: str) -> str:
    """Normal-case name for people, from an upper-case register name.

    Small words stay lower case (``de``, ``la``, ``et``…), acronyms stay upper case
    (:data:`ACRONYMS`, or any word without a vowel), abbreviations are spelled out
    (:data:`ABBREVIATIONS`: ``MAIS. DE RETRAITE ST MAURICE`` → ``Maison de retraite Saint
    Maurice``) and common words get their accents back. A name already in mixed case is
    returned as it is (only the quotes are repaired).
    """
    text = unquote(official)
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.islower() for c in letters) > len(letters) // 4:
        return text                  # already written for people
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    first = True
    for i, token in enumerate(tokens):
        if not token:
            continue
        if not token[0].isalnum():
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            prev = tokens[i - 1] if i else ""
            if token.startswith(".") and prev.upper().translate(_FOLD) in ABBREVIATIONS:
                token = token[1:] or (" " if nxt else "")   # « MAIS. » → « Maison »
                if token and not token.startswith(" ") and nxt:
                    token = " " + token
            out.append(token)
            if "«" in token:
                first = True
            continue
        word = _word(token, first=first)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if len(token) == 1 and token.isalpha() and nxt.startswith("."):
            word = token.upper()                              # « A.E.M.O. » stays
        elif token.upper() in {"L", "D"} and nxt.startswith("'"):
            word = token.upper() if first else token.lower()  # « MSP D'ALLEGRE »
        elif token.upper() in {"L", "D"} and i + 1 < len(tokens) and tokens[i + 1] == " " \
                and not first:
            word = token.lower() + "'"                        # « L AUZON » → « l'Auzon »
            tokens[i + 1] = ""
        elif token.upper() in {"L", "D"} and i + 1 < len(tokens) and tokens[i + 1] == " ":
            word = token.upper() + "'"
            tokens[i + 1] = ""
        out.append(word)
        first = False
    name = "".join(out)
    name = re.sub(r"(\b[ldLD]')\s+", r"\1", name)
    name = re.sub(r"\s+", " ", name).strip()
    return name[0].upper() + name[1:] if name else name


def city_name(city: str) -> str:
    """``CLERMONT FERRAND CEDEX 1`` → ``Clermont Ferrand`` (the *ligne d'acheminement*)."""
    city = re.sub(r"\s+CEDEX(\s+\d+)?\s*$", "", city.strip(), flags=re.IGNORECASE)
    return display_name(city)
