"""Generate the labelled redaction corpus: ``tests/data/redaction_corpus.jsonl``.

Run from the repository root::

    python tools/make_redaction_corpus.py            # rewrite the file
    python tools/make_redaction_corpus.py --check    # exit 1 if the file is stale

Every value is made by a seeded Faker (names, streets, emails, cards, IBANs, IPs, dates) or
by a seeded ``random.Random`` shaped by python-stdnum and phonenumbers, so national
identifiers carry valid check digits and phone numbers are valid in their region. Values
sit in short sentences written in each locale's language. A test regenerates the file and
compares it byte for byte, so the committed corpus is always what this script makes.

One JSON object per line, keys sorted:

* ``id``: ``<locale>-<kind>-<n>``; ``locale`` (Faker's) and ``region`` (ISO 3166, the
  redaction region hint a user of that country gets);
* ``kind``: ``sensitive`` (at least one span) or ``clean`` (a look-alike that must
  survive redaction unchanged);
* ``text`` and ``spans``: ``{category, subkind, start, end, value}`` with
  ``text[start:end] == value``.

Categories: email, phone, card, iban, national_id, ip, secret (API keys, tokens, private
keys, password assignments, URLs with credentials), name, street_address.
"""

# ruff: noqa: RUF001 - Japanese sentences use full-width punctuation on purpose.

from __future__ import annotations

import argparse
import base64
import hashlib
import ipaddress
import json
import random
import string
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import phonenumbers
from faker import Faker
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.br import cpf
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.in_ import aadhaar, pan
from stdnum.iso7064 import mod_11_10
from stdnum.it import codicefiscale
from stdnum.jp import in_ as mynumber
from stdnum.nl import bsn
from stdnum.us import ssn

SEED = 20240614
OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "redaction_corpus.jsonl"

LOCALES = {
    "en_US": ("US", "en"),
    "en_GB": ("GB", "en"),
    "de_DE": ("DE", "de"),
    "fr_FR": ("FR", "fr"),
    "es_ES": ("ES", "es"),
    "it_IT": ("IT", "it"),
    "nl_NL": ("NL", "nl"),
    "pt_BR": ("BR", "pt"),
    "ja_JP": ("JP", "ja"),
    "en_IN": ("IN", "en"),
}

# Per category, how many sensitive messages each locale gets.
PER_LOCALE = {
    "email": 10,
    "phone": 14,
    "card": 10,
    "iban": 8,
    "national_id": 10,
    "ip": 8,
    "secret": 30,
    "name": 6,
    "street_address": 6,
    "signature": 4,  # name + phone + email in one message
}
CLEAN_PER_LOCALE = 36


@dataclass(frozen=True)
class Language:
    frames: tuple[str, ...]  # "{what}" names the item, "{v}" is where it goes
    what: dict[str, str]
    code_frames: tuple[str, ...]  # a pasted snippet: "{v}" is the whole snippet
    name_frames: tuple[str, ...]
    address_frames: tuple[str, ...]
    signature_greeting: str
    clean_frames: tuple[str, ...]
    clean_what: dict[str, str]


LANGUAGES = {
    "en": Language(
        frames=(
            "Can you check this for me? My {what} is {v}.",
            "Here's the {what} you asked for: {v} - let me know if it works.",
            "Quick update: {v} is the {what} to use from now on.",
            "I typed {v} as my {what} but the form rejects it, any idea why?",
        ),
        what={
            "email": "email",
            "phone": "phone number",
            "card": "card number",
            "iban": "IBAN",
            "ip": "server IP",
        },
        code_frames=(
            "Why does this config not work?\n{v}\nThe app still can't connect.",
            "My deploy breaks with this:\n\n{v}\n\nWhat am I missing?",
            "Can you explain this error? I set {v} and it says unauthorized.",
        ),
        name_frames=(
            "Hi, I'm {v} and I can't log into my account.",
            "Please forward the report to {v} before Monday.",
            "Thanks for the help!\nBest regards,\n{v}",
        ),
        address_frames=(
            "Please ship the replacement to {v}, the old address is wrong.",
            "I moved to {v} last month, how do I update my profile?",
        ),
        signature_greeting="Thanks, talk soon.",
        clean_frames=(
            "{what} {v} - can you take a look?",
            "Quick question about {what} {v}, it looks wrong to me.",
        ),
        clean_what={
            "invoice": "Invoice",
            "order": "Order",
            "version": "version",
            "price": "the price",
            "isbn": "ISBN",
            "commit": "commit",
            "uuid": "request id",
            "postcode": "postcode",
            "date": "the deadline",
            "time": "the call at",
            "ticket": "ticket",
        },
    ),
    "de": Language(
        frames=(
            "Kannst du das bitte prüfen? Meine {what} ist {v}.",
            "Hier die {what}, nach der du gefragt hast: {v} - sag Bescheid, ob es klappt.",
            "Kurzes Update: {v} ist ab jetzt die {what}.",
            "Ich habe {v} als {what} eingegeben, aber das Formular lehnt es ab. Warum?",
        ),
        what={
            "email": "E-Mail-Adresse",
            "phone": "Telefonnummer",
            "card": "Kartennummer",
            "iban": "IBAN",
            "ip": "Server-IP",
        },
        code_frames=(
            "Warum funktioniert diese Konfiguration nicht?\n{v}\nDie App verbindet sich nicht.",
            "Mein Deployment scheitert damit:\n\n{v}\n\nWas fehlt?",
            "Kannst du den Fehler erklären? Ich habe {v} gesetzt und bekomme 401.",
        ),
        name_frames=(
            "Hallo, ich bin {v} und komme nicht in mein Konto.",
            "Bitte leite den Bericht vor Montag an {v} weiter.",
            "Danke für die Hilfe!\nViele Grüße\n{v}",
        ),
        address_frames=(
            "Bitte schickt den Ersatz an {v}, die alte Adresse stimmt nicht.",
            "Ich wohne seit letztem Monat in der {v}, wie ändere ich mein Profil?",
        ),
        signature_greeting="Danke, bis bald.",
        clean_frames=(
            "{what} {v} - kannst du mal schauen?",
            "Kurze Frage zu {what} {v}, das sieht falsch aus.",
        ),
        clean_what={
            "invoice": "Rechnung",
            "order": "Bestellung",
            "version": "Version",
            "price": "dem Preis",
            "isbn": "ISBN",
            "commit": "Commit",
            "uuid": "Anfrage-ID",
            "postcode": "Postleitzahl",
            "date": "der Frist",
            "time": "dem Termin um",
            "ticket": "Ticket",
        },
    ),
    "fr": Language(
        frames=(
            "Tu peux vérifier ça ? Mon {what} est {v}.",
            "Voici le {what} demandé : {v} - dis-moi si ça marche.",
            "Petite mise à jour : {v} est le {what} à utiliser désormais.",
            "J'ai saisi {v} comme {what} mais le formulaire le refuse, une idée ?",
        ),
        what={
            "email": "e-mail",
            "phone": "numéro de téléphone",
            "card": "numéro de carte",
            "iban": "IBAN",
            "ip": "IP du serveur",
        },
        code_frames=(
            "Pourquoi cette configuration ne marche pas ?\n{v}\nL'appli ne se connecte pas.",
            "Mon déploiement plante avec ceci :\n\n{v}\n\nQu'est-ce qui manque ?",
            "Tu peux expliquer l'erreur ? J'ai mis {v} et j'ai un 401.",
        ),
        name_frames=(
            "Bonjour, je suis {v} et je n'arrive plus à me connecter.",
            "Merci de transmettre le rapport à {v} avant lundi.",
            "Merci pour l'aide !\nCordialement,\n{v}",
        ),
        address_frames=(
            "Merci d'envoyer le remplacement au {v}, l'ancienne adresse est fausse.",
            "J'habite au {v} depuis le mois dernier, comment changer mon profil ?",
        ),
        signature_greeting="Merci, à bientôt.",
        clean_frames=(
            "{what} {v} - tu peux regarder ?",
            "Petite question sur {what} {v}, ça me semble faux.",
        ),
        clean_what={
            "invoice": "Facture",
            "order": "Commande",
            "version": "version",
            "price": "le prix",
            "isbn": "ISBN",
            "commit": "commit",
            "uuid": "identifiant de requête",
            "postcode": "code postal",
            "date": "l'échéance du",
            "time": "la réunion à",
            "ticket": "ticket",
        },
    ),
    "es": Language(
        frames=(
            "¿Puedes revisarlo? Mi {what} es {v}.",
            "Aquí tienes el {what} que pediste: {v} - dime si funciona.",
            "Actualización rápida: {v} es el {what} a partir de ahora.",
            "Escribí {v} como {what} pero el formulario lo rechaza, ¿por qué?",
        ),
        what={
            "email": "correo",
            "phone": "teléfono",
            "card": "número de tarjeta",
            "iban": "IBAN",
            "ip": "IP del servidor",
        },
        code_frames=(
            "¿Por qué no funciona esta configuración?\n{v}\nLa app no conecta.",
            "Mi despliegue falla con esto:\n\n{v}\n\n¿Qué me falta?",
            "¿Me explicas el error? Puse {v} y me da 401.",
        ),
        name_frames=(
            "Hola, soy {v} y no puedo entrar en mi cuenta.",
            "Por favor, envía el informe a {v} antes del lunes.",
            "¡Gracias por la ayuda!\nUn saludo,\n{v}",
        ),
        address_frames=(
            "Enviad el repuesto a {v}, la dirección antigua está mal.",
            "Me mudé a {v} el mes pasado, ¿cómo actualizo mi perfil?",
        ),
        signature_greeting="Gracias, hablamos.",
        clean_frames=(
            "{what} {v} - ¿puedes echarle un vistazo?",
            "Duda rápida sobre {what} {v}, me parece mal.",
        ),
        clean_what={
            "invoice": "Factura",
            "order": "Pedido",
            "version": "versión",
            "price": "el precio",
            "isbn": "ISBN",
            "commit": "commit",
            "uuid": "id de solicitud",
            "postcode": "código postal",
            "date": "el plazo del",
            "time": "la reunión a las",
            "ticket": "ticket",
        },
    ),
    "it": Language(
        frames=(
            "Puoi controllare? Il mio {what} è {v}.",
            "Ecco il {what} che chiedevi: {v} - fammi sapere se va.",
            "Aggiornamento veloce: {v} è il {what} da usare d'ora in poi.",
            "Ho inserito {v} come {what} ma il modulo lo rifiuta, perché?",
        ),
        what={
            "email": "indirizzo email",
            "phone": "numero di telefono",
            "card": "numero di carta",
            "iban": "IBAN",
            "ip": "IP del server",
        },
        code_frames=(
            "Perché questa configurazione non funziona?\n{v}\nL'app non si collega.",
            "Il deploy si rompe con questo:\n\n{v}\n\nCosa manca?",
            "Mi spieghi l'errore? Ho impostato {v} e ricevo 401.",
        ),
        name_frames=(
            "Ciao, sono {v} e non riesco ad accedere.",
            "Per favore inoltra il rapporto a {v} entro lunedì.",
            "Grazie dell'aiuto!\nCordiali saluti,\n{v}",
        ),
        address_frames=(
            "Spedite il ricambio in {v}, il vecchio indirizzo è sbagliato.",
            "Mi sono trasferito in {v} il mese scorso, come aggiorno il profilo?",
        ),
        signature_greeting="Grazie, a presto.",
        clean_frames=(
            "{what} {v} - puoi dare un'occhiata?",
            "Domanda veloce su {what} {v}, mi sembra sbagliato.",
        ),
        clean_what={
            "invoice": "Fattura",
            "order": "Ordine",
            "version": "versione",
            "price": "il prezzo",
            "isbn": "ISBN",
            "commit": "commit",
            "uuid": "id richiesta",
            "postcode": "CAP",
            "date": "la scadenza del",
            "time": "la riunione alle",
            "ticket": "ticket",
        },
    ),
    "nl": Language(
        frames=(
            "Kun je dit even checken? Mijn {what} is {v}.",
            "Hier is het {what} waar je om vroeg: {v} - laat weten of het werkt.",
            "Korte update: {v} is vanaf nu het {what}.",
            "Ik vulde {v} in als {what} maar het formulier weigert het, waarom?",
        ),
        what={
            "email": "e-mailadres",
            "phone": "telefoonnummer",
            "card": "kaartnummer",
            "iban": "IBAN",
            "ip": "server-IP",
        },
        code_frames=(
            "Waarom werkt deze configuratie niet?\n{v}\nDe app maakt geen verbinding.",
            "Mijn deploy faalt hiermee:\n\n{v}\n\nWat mis ik?",
            "Kun je de fout uitleggen? Ik zette {v} en krijg 401.",
        ),
        name_frames=(
            "Hoi, ik ben {v} en ik kan niet inloggen.",
            "Stuur het rapport voor maandag door naar {v}.",
            "Bedankt voor de hulp!\nMet vriendelijke groet,\n{v}",
        ),
        address_frames=(
            "Stuur de vervanging naar {v}, het oude adres klopt niet.",
            "Ik woon sinds vorige maand op {v}, hoe pas ik mijn profiel aan?",
        ),
        signature_greeting="Bedankt, tot snel.",
        clean_frames=(
            "{what} {v} - kun je even kijken?",
            "Korte vraag over {what} {v}, dat lijkt niet te kloppen.",
        ),
        clean_what={
            "invoice": "Factuur",
            "order": "Bestelling",
            "version": "versie",
            "price": "de prijs",
            "isbn": "ISBN",
            "commit": "commit",
            "uuid": "verzoek-id",
            "postcode": "postcode",
            "date": "de deadline van",
            "time": "de afspraak om",
            "ticket": "ticket",
        },
    ),
    "pt": Language(
        frames=(
            "Pode verificar isso? Meu {what} é {v}.",
            "Aqui está o {what} que você pediu: {v} - me avise se funcionar.",
            "Atualização rápida: {v} é o {what} a partir de agora.",
            "Digitei {v} como {what} mas o formulário recusa, por quê?",
        ),
        what={
            "email": "e-mail",
            "phone": "telefone",
            "card": "número do cartão",
            "iban": "IBAN",
            "ip": "IP do servidor",
        },
        code_frames=(
            "Por que essa configuração não funciona?\n{v}\nO app não conecta.",
            "Meu deploy quebra com isto:\n\n{v}\n\nO que está faltando?",
            "Pode explicar o erro? Coloquei {v} e recebo 401.",
        ),
        name_frames=(
            "Oi, sou {v} e não consigo entrar na minha conta.",
            "Por favor, encaminhe o relatório para {v} até segunda.",
            "Obrigado pela ajuda!\nAtenciosamente,\n{v}",
        ),
        address_frames=(
            "Enviem a troca para {v}, o endereço antigo está errado.",
            "Mudei para {v} no mês passado, como atualizo o perfil?",
        ),
        signature_greeting="Obrigado, até logo.",
        clean_frames=(
            "{what} {v} - pode dar uma olhada?",
            "Dúvida rápida sobre {what} {v}, parece errado.",
        ),
        clean_what={
            "invoice": "Nota fiscal",
            "order": "Pedido",
            "version": "versão",
            "price": "o preço",
            "isbn": "ISBN",
            "commit": "commit",
            "uuid": "id da requisição",
            "postcode": "CEP",
            "date": "o prazo de",
            "time": "a reunião às",
            "ticket": "chamado",
        },
    ),
    "ja": Language(
        frames=(
            "確認してもらえますか？私の{what}は{v}です。",
            "頼まれていた{what}です：{v} うまくいくか教えてください。",
            "更新です。今後の{what}は {v} です。",
            "{what}に{v}と入力したのですが、フォームで弾かれます。なぜでしょう？",
        ),
        what={
            "email": "メールアドレス",
            "phone": "電話番号",
            "card": "カード番号",
            "iban": "IBAN",
            "ip": "サーバーのIP",
        },
        code_frames=(
            "この設定はなぜ動かないのでしょうか？\n{v}\nアプリが接続できません。",
            "これでデプロイが失敗します：\n\n{v}\n\n何が足りないですか？",
            "エラーの意味を教えてください。{v} を設定したら 401 になります。",
        ),
        name_frames=(
            "こんにちは、{v}です。アカウントにログインできません。",
            "月曜までに{v}さんにレポートを転送してください。",
            "ありがとうございました。\n{v}",
        ),
        address_frames=(
            "交換品は{v}に送ってください。前の住所は間違いです。",
            "先月{v}に引っ越しました。プロフィールはどう更新しますか？",
        ),
        signature_greeting="よろしくお願いします。",
        clean_frames=(
            "{what} {v} について確認してもらえますか？",
            "{what}「{v}」が間違っているようです。",
        ),
        clean_what={
            "invoice": "請求書",
            "order": "注文番号",
            "version": "バージョン",
            "price": "価格",
            "isbn": "ISBN",
            "commit": "コミット",
            "uuid": "リクエストID",
            "postcode": "郵便番号",
            "date": "期限",
            "time": "会議",
            "ticket": "チケット",
        },
    ),
}

# What a person calls their national identifier, by region.
NATIONAL_ID_WORDS = {
    "US": ("SSN", "social security number"),
    "GB": ("National Insurance number", "NI number"),
    "DE": ("Steuer-ID", "Steueridentifikationsnummer"),
    "FR": ("numéro de sécurité sociale", "NIR"),
    "ES": ("DNI", "NIE"),
    "IT": ("codice fiscale", "codice fiscale"),
    "NL": ("BSN", "burgerservicenummer"),
    "BR": ("CPF", "CPF"),
    "JP": ("マイナンバー", "個人番号"),
    "IN": ("Aadhaar", "PAN"),
}

# "My password: ..." in the user's own language.
PASSWORD_WORDS = {
    "en": "my password",
    "de": "mein Passwort",
    "fr": "mon mot de passe",
    "es": "mi contraseña",
    "it": "la mia password",
    "nl": "mijn wachtwoord",
    "pt": "minha senha",
    "ja": "パスワード",
}

CARD_TYPES = ("visa16", "mastercard", "amex", "discover", "diners", "jcb16", "maestro", "visa19")
CARD_GROUPS = {13: (4, 4, 5), 14: (4, 6, 4), 15: (4, 6, 5), 16: (4, 4, 4, 4), 19: (4, 4, 4, 4, 3)}
IBAN_LOCALES = ("de_DE", "en_GB", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "pt_PT", "fr_CH")

CODE_WITHOUT_SECRETS = (
    'password = os.environ["DB_PASSWORD"]',
    "api_key = settings.STRIPE_API_KEY",
    "DB_PASSWORD=${DB_PASSWORD}",
    "def check_password(raw_password: str) -> bool:",
    'token = request.headers.get("Authorization")',
    "SELECT id, total FROM orders WHERE id = 48213 LIMIT 10;",
    "for i in range(1024):\n    total += i * 3",
    'secret_name = "prod/db"  # looked up in the vault at runtime',
    "const port = process.env.PORT || 8080;",
    "git checkout -b fix/login-redirect && git push -u origin HEAD",
    "docker run -p 5432:5432 postgres:16",
    "pip install django==5.2.1 celery==5.4.0",
)


class Builder:
    """Concatenates text pieces and records where the labelled values land."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[dict[str, object]] = []

    def text(self, piece: str) -> Builder:
        self.parts.append(piece)
        self.length += len(piece)
        return self

    def value(self, piece: str, category: str, subkind: str) -> Builder:
        self.spans.append(
            {
                "category": category,
                "subkind": subkind,
                "start": self.length,
                "end": self.length + len(piece),
                "value": piece,
            }
        )
        return self.text(piece)

    def frame(self, frame: str, piece: str, category: str, subkind: str, what: str = "") -> None:
        before, after = frame.replace("{what}", what).split("{v}")
        self.text(before).value(piece, category, subkind).text(after)

    def build(self) -> tuple[str, list[dict[str, object]]]:
        return "".join(self.parts), self.spans


class Generator:
    def __init__(self, locale: str, index: int) -> None:
        self.locale = locale
        self.region, language = LOCALES[locale]
        self.language = language
        self.lang = LANGUAGES[language]
        self.fake = Faker(locale)
        self.fake.seed_instance(SEED + index)
        self.rng = random.Random(SEED * 31 + index)
        self.iban_fakers = [Faker(loc) for loc in IBAN_LOCALES]
        for offset, faker in enumerate(self.iban_fakers):
            faker.seed_instance(SEED + 100 * index + offset)

    def choice(self, items):
        return items[self.rng.randrange(len(items))]

    def token(self, alphabet: str, length: int) -> str:
        return "".join(self.choice(alphabet) for _ in range(length))

    # -- sensitive values ------------------------------------------------------------

    def email(self) -> tuple[str, str]:
        user = self.fake.user_name()
        domain = self.fake.free_email_domain()
        if self.rng.random() < 0.25:
            name, _, tld = domain.rpartition(".")
            at, dot = self.choice((("(at)", "(dot)"), ("[at]", "[dot]"), ("{at}", "{dot}")))
            return f"{user} {at} {name} {dot} {tld}", "obfuscated"
        if self.rng.random() < 0.3:
            return self.fake.company_email(), "company"
        return f"{user}@{domain}", "plain"

    def phone(self) -> tuple[str, str]:
        if self.rng.random() < 0.25:
            candidate = self.fake.phone_number()
            try:
                parsed = phonenumbers.parse(candidate, self.region)
            except phonenumbers.NumberParseException:
                parsed = None
            if parsed is not None and phonenumbers.is_valid_number(parsed):
                return candidate, "faker"
        kind = self.choice((PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE))
        example = phonenumbers.example_number_for_type(self.region, kind)
        national = phonenumbers.national_significant_number(example)
        while True:
            keep = self.rng.randrange(3, 5)
            digits = national[:keep] + self.token(string.digits, len(national) - keep)
            number = phonenumbers.parse("+" + str(example.country_code) + digits)
            if phonenumbers.is_valid_number_for_region(
                number, self.region
            ) and phonenumbers.number_type(number) in (kind, PhoneNumberType.FIXED_LINE_OR_MOBILE):
                break
        style = self.choice(("national", "national", "international", "e164", "dashed", "dotted"))
        if style == "international":
            return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL), style
        if style == "e164":
            return phonenumbers.format_number(number, PhoneNumberFormat.E164), style
        text = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        if style == "dashed" and " " in text and "(" not in text:
            return text.replace(" ", "-"), style
        if style == "dotted" and " " in text and "(" not in text:
            return text.replace(" ", "."), style
        return text, "national"

    def card(self) -> tuple[str, str]:
        card_type = self.choice(CARD_TYPES)
        number = self.fake.credit_card_number(card_type)
        assert luhn.is_valid(number), number
        separator = self.choice((" ", "-", ".", ""))
        groups = CARD_GROUPS.get(len(number), (len(number),))
        pieces, cursor = [], 0
        for size in groups:
            pieces.append(number[cursor : cursor + size])
            cursor += size
        subkind = f"{card_type}-{ {' ': 'space', '-': 'dash', '.': 'dot', '': 'none'}[separator] }"
        return separator.join(pieces), subkind

    def iban(self) -> tuple[str, str]:
        faker = self.choice(self.iban_fakers)
        compact = faker.iban()
        assert stdnum_iban.is_valid(compact), compact
        style = self.choice(("compact", "spaced", "dashed"))
        grouped = [compact[i : i + 4] for i in range(0, len(compact), 4)]
        if style == "spaced":
            return " ".join(grouped), style
        if style == "dashed":
            return "-".join(grouped), style
        return compact, style

    def national_id(self) -> tuple[str, str, str]:
        """(value, subkind, what the person calls it)."""
        words = NATIONAL_ID_WORDS[self.region]
        compact = self.rng.random() < 0.4
        region = self.region
        if region == "US":
            while not ssn.is_valid(
                value := f"{self.rng.randrange(1, 900):03d}-"
                f"{self.rng.randrange(1, 100):02d}-{self.rng.randrange(1, 10000):04d}"
            ):
                pass
            return (
                (ssn.compact(value) if compact else value),
                "us-ssn",
                words[self.rng.randrange(2)],
            )
        if region == "GB":
            if self.rng.random() < 0.3:
                while not nhs.is_valid(value := self.token(string.digits, 10)):
                    pass
                return (value if compact else nhs.format(value)), "gb-nhs", "NHS number"
            # HMRC's rules (no check digit exists): first letter not D F I Q U V, second not
            # D F I O Q U V, prefixes BG GB KN NK NT TN ZZ unallocated, suffix A-D.
            while True:
                prefix = self.token("ABCEGHJKLMNPRSTWXYZ", 1) + self.token("ABCEGHJKLMNPRSTWXYZ", 1)
                if prefix not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
                    break
            value = prefix + self.token(string.digits, 6) + self.choice("ABCD")
            spaced = f"{value[:2]} {value[2:4]} {value[4:6]} {value[6:8]} {value[8]}"
            return (value if compact else spaced), "gb-nino", words[self.rng.randrange(2)]
        if region == "DE":
            while True:
                body = str(self.rng.randrange(1, 10)) + self.token(string.digits, 9)
                value = body + mod_11_10.calc_check_digit(body)
                if idnr.is_valid(value):
                    break
            formatted = f"{value[:2]} {value[2:5]} {value[5:8]} {value[8:]}"
            return (value if compact else formatted), "de-idnr", words[self.rng.randrange(2)]
        if region == "FR":
            while True:
                body = (
                    self.choice("12")
                    + f"{self.rng.randrange(40, 100):02d}{self.rng.randrange(1, 13):02d}"
                    + f"{self.rng.randrange(1, 96):02d}{self.rng.randrange(1, 990):03d}"
                    + f"{self.rng.randrange(1, 1000):03d}"
                )
                value = body + nir.calc_check_digits(body)
                if nir.is_valid(value):
                    break
            return (value if compact else nir.format(value)), "fr-nir", words[self.rng.randrange(2)]
        if region == "ES":
            if self.rng.random() < 0.5:
                body = f"{self.rng.randrange(10**7, 10**8)}"
                value = body + dni.calc_check_digit(body)
                assert dni.is_valid(value)
                return (value if compact else f"{body}-{value[-1]}"), "es-dni", "DNI"
            body = self.choice("XYZ") + f"{self.rng.randrange(10**6, 10**7)}"
            value = body + nie.calc_check_digit(body)
            assert nie.is_valid(value)
            return (value if compact else f"{body[0]}-{body[1:]}-{value[-1]}"), "es-nie", "NIE"
        if region == "IT":
            while not codicefiscale.is_valid(value := self.fake.ssn()):
                pass
            return value, "it-codicefiscale", words[0]
        if region == "NL":
            while not bsn.is_valid(value := f"{self.rng.randrange(10**8, 10**9)}"):
                pass
            return (value if compact else bsn.format(value)), "nl-bsn", words[self.rng.randrange(2)]
        if region == "BR":
            while not cpf.is_valid(value := f"{self.rng.randrange(10**10, 10**11)}"):
                pass
            return (value if compact else cpf.format(value)), "br-cpf", words[0]
        if region == "JP":
            body = str(self.rng.randrange(1, 10)) + self.token(string.digits, 10)
            value = body + mynumber.calc_check_digit(body)
            assert mynumber.is_valid(value)
            formatted = f"{value[:4]} {value[4:8]} {value[8:]}"
            return (value if compact else formatted), "jp-mynumber", words[self.rng.randrange(2)]
        # IN: Aadhaar or PAN
        if self.rng.random() < 0.7:
            while not aadhaar.is_valid(value := self.fake.aadhaar_id()):
                pass
            return (value if compact else aadhaar.format(value)), "in-aadhaar", words[0]
        while True:
            value = (
                self.token(string.ascii_uppercase, 3)
                + self.choice("PCHFATBLJG")
                + self.token(string.ascii_uppercase, 1)
                + self.token(string.digits, 4)
                + self.token(string.ascii_uppercase, 1)
            )
            if pan.is_valid(value):
                return value, "in-pan", words[1]

    def ip(self) -> tuple[str, str]:
        kind = self.choice(("public", "private", "v6", "v6"))
        if kind == "public":
            return self.fake.ipv4_public(), "ipv4-public"
        if kind == "private":
            return self.fake.ipv4_private(), "ipv4-private"
        value = self.fake.ipv6()
        if self.rng.random() < 0.5:
            value = str(ipaddress.IPv6Address(value))  # compressed, "::" form
            return value, "ipv6-compressed"
        return value, "ipv6-full"

    # -- secrets ---------------------------------------------------------------------

    def _password(self) -> str:
        return self.fake.password(length=self.rng.randrange(10, 18))

    def secret_snippet(self, builder: Builder) -> None:
        """Appends one pasted snippet holding secrets; each secret value is a span."""
        b64 = string.ascii_letters + string.digits
        kind = self.choice(
            (
                "aws-credentials-file",
                "aws-env",
                "aws-key-id",
                "github",
                "github-pat",
                "stripe",
                "stripe-webhook",
                "openai",
                "anthropic",
                "slack",
                "slack-webhook",
                "google",
                "jwt",
                "pem",
                "password-colon",
                "password-prose",
                "db-password-env",
                "pwd-quoted",
                "password-json",
                "url-credentials",
            )
        )
        s = "secret"
        if kind == "aws-credentials-file":
            key_id = "AKIA" + self.token(string.ascii_uppercase + "234567", 16)
            secret = self.token(b64 + "/+", 40)
            builder.text("[default]\naws_access_key_id = ").value(key_id, s, "aws-key-id")
            builder.text("\naws_secret_access_key = ").value(secret, s, "aws-secret-key")
            builder.text("\nregion = eu-west-1")
        elif kind == "aws-env":
            secret = self.token(b64 + "/+", 40)
            prefix = self.choice(
                (
                    "AWS_SECRET_ACCESS_KEY=",
                    "export AWS_SECRET_ACCESS_KEY=",
                    "aws_secret_access_key: ",
                )
            )
            builder.text(prefix).value(secret, s, "aws-secret-key")
        elif kind == "aws-key-id":
            key_id = "AKIA" + self.token(string.ascii_uppercase + "234567", 16)
            builder.text("AWS_ACCESS_KEY_ID=").value(key_id, s, "aws-key-id")
        elif kind == "github":
            token = self.choice(("ghp_", "gho_", "ghs_")) + self.token(b64, 36)
            builder.text("git clone with token ").value(token, s, "github")
        elif kind == "github-pat":
            token = "github_pat_" + self.token(b64, 22) + "_" + self.token(b64, 59)
            builder.text("GH_TOKEN=").value(token, s, "github-pat")
        elif kind == "stripe":
            token = self.choice(("sk_live_", "rk_live_", "sk_test_")) + self.token(
                b64, self.rng.randrange(24, 99)
            )
            builder.text('stripe.api_key = "').value(token, s, "stripe").text('"')
        elif kind == "stripe-webhook":
            token = "whsec_" + self.token(b64, 32)
            builder.text("STRIPE_WEBHOOK_SECRET=").value(token, s, "stripe-whsec")
        elif kind == "openai":
            token = self.choice(("sk-proj-", "sk-")) + self.token(b64 + "-_", 48)
            if not any(c.isdigit() for c in token):
                token += "7"
            builder.text("OPENAI_API_KEY=").value(token, s, "openai")
        elif kind == "anthropic":
            token = "sk-ant-api03-" + self.token(b64 + "-_", 93) + "AA"
            builder.text('client = Anthropic(api_key="').value(token, s, "anthropic").text('")')
        elif kind == "slack":
            token = (
                self.choice(("xoxb-", "xoxp-"))
                + self.token(string.digits, 12)
                + "-"
                + self.token(string.digits, 13)
                + "-"
                + self.token(b64, 24)
            )
            builder.text("SLACK_BOT_TOKEN=").value(token, s, "slack")
        elif kind == "slack-webhook":
            url = (
                "https://hooks.slack.com/services/T"
                + self.token(string.ascii_uppercase + string.digits, 8)
                + "/B"
                + self.token(string.ascii_uppercase + string.digits, 8)
                + "/"
                + self.token(b64, 24)
            )
            builder.text("curl -X POST ").value(url, s, "slack-webhook")
        elif kind == "google":
            token = "AIza" + self.token(b64 + "-_", 35)
            builder.text("maps.googleapis.com/maps/api/js?key=").value(token, s, "google")
        elif kind == "jwt":
            header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
            claims = json.dumps(
                {"sub": self.fake.uuid4(), "name": self.fake.name(), "iat": 1718000000}
            )
            payload = base64.urlsafe_b64encode(claims.encode()).rstrip(b"=")
            signature = base64.urlsafe_b64encode(
                hashlib.sha256(header + payload + str(self.rng.random()).encode()).digest()
            ).rstrip(b"=")
            token = b".".join((header, payload, signature)).decode()
            builder.text("Authorization: Bearer ").value(token, s, "jwt")
        elif kind == "pem":
            label = self.choice(
                ("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY")
            )
            body = "\n".join(self.token(b64 + "+/", 64) for _ in range(self.rng.randrange(3, 7)))
            block = f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"
            builder.value(block, s, "pem")
        elif kind == "password-colon":
            builder.text(self.choice(("password: ", "Password: ", "db_password: "))).value(
                self._password(), s, "password-assignment"
            )
        elif kind == "password-prose":
            builder.text(PASSWORD_WORDS[self.language] + ": ").value(
                self._password(), s, "password-assignment"
            )
        elif kind == "db-password-env":
            builder.text(
                self.choice(("DB_PASSWORD=", "POSTGRES_PASSWORD=", "MYSQL_ROOT_PASSWORD="))
            ).value(self._password(), s, "password-assignment")
        elif kind == "pwd-quoted":
            quote = self.choice(("'", '"'))
            builder.text(f"pwd = {quote}").value(self._password(), s, "password-assignment").text(
                quote
            )
        elif kind == "password-json":
            builder.text('{"user": "admin", "password": "').value(
                self._password(), s, "password-assignment"
            ).text('"}')
        else:  # url-credentials
            scheme, port = self.choice(
                (
                    ("postgres", 5432),
                    ("mysql", 3306),
                    ("https", 443),
                    ("redis", 6379),
                    ("amqp", 5672),
                )
            )
            password = self.token(b64, self.rng.randrange(10, 20))
            url = f"{scheme}://{self.fake.user_name()}:{password}@{self.fake.domain_name()}:{port}/app"
            builder.text("DATABASE_URL=").value(url, s, "url-credentials")

    # -- messages --------------------------------------------------------------------

    def sensitive(self, category: str) -> tuple[str, list[dict[str, object]]]:
        builder = Builder()
        lang = self.lang
        if category == "secret":
            before, after = self.choice(lang.code_frames).split("{v}")
            builder.text(before)
            self.secret_snippet(builder)
            builder.text(after)
        elif category == "name":
            builder.frame(self.choice(lang.name_frames), self.fake.name(), "name", "faker")
        elif category == "street_address":
            street = (
                self.fake.address().split("\n")[0]
                if self.region == "JP"
                else self.fake.street_address()
            )
            street = street.replace("\n", ", ")
            builder.frame(self.choice(lang.address_frames), street, "street_address", "faker")
        elif category == "signature":
            phone, phone_kind = self.phone()
            email, email_kind = self.email()
            builder.text(lang.signature_greeting + "\n\n")
            builder.value(self.fake.name(), "name", "faker").text("\n")
            builder.text("Tel. ").value(phone, "phone", phone_kind).text("\n")
            builder.value(email, "email", email_kind)
        elif category == "national_id":
            value, subkind, what = self.national_id()
            builder.frame(self.choice(lang.frames), value, "national_id", subkind, what)
        else:
            value, subkind = getattr(self, category)()
            builder.frame(self.choice(lang.frames), value, category, subkind, lang.what[category])
        return builder.build()

    def clean(self, n: int) -> tuple[str, str]:
        kinds = (*self.lang.clean_what, "code", "code", "dimensions")
        kind = kinds[n % len(kinds)]
        if kind == "code":
            return f"```\n{self.choice(CODE_WITHOUT_SECRETS)}\n```", kind
        if kind == "dimensions":
            return (
                f"{self.rng.choice(('1920x1080', '2560x1440', '3840x2160'))}, 60 Hz, {self.rng.randrange(10, 99)} %",
                kind,
            )
        year = self.rng.randrange(2019, 2027)
        if kind == "invoice":
            value = self.choice(
                (
                    f"{year}-{self.rng.randrange(1, 999999):06d}",
                    f"INV-{year}-{self.rng.randrange(1, 99999):05d}",
                    f"{year}{self.rng.randrange(1, 9999):04d}",
                )
            )
        elif kind == "order":
            value = self.choice(
                (
                    f"#{self.rng.randrange(10**5, 10**8)}",
                    f"{self.rng.randrange(100, 999)}-{self.rng.randrange(10**6, 10**7)}-{self.rng.randrange(10**6, 10**7)}",
                    f"A{self.rng.randrange(10**6, 10**7)}",
                )
            )
        elif kind == "version":
            a, b, c = (self.rng.randrange(0, 20) for _ in range(3))
            value = self.choice(
                (
                    f"v{a}.{b}.{c}",
                    f"{a}.{b}.{c}",
                    f"{a}.{b}.{c}-rc.{self.rng.randrange(1, 5)}",
                    f"{a}.{b}.{c}.{self.rng.randrange(1000)}",
                )
            )
        elif kind == "price":
            value = self.fake.pricetag()
        elif kind == "isbn":
            value = self.choice((self.fake.isbn13(), self.fake.isbn10()))
        elif kind == "commit":
            value = self.choice((self.fake.sha1(), self.fake.sha1()[:7], self.fake.sha256()[:12]))
        elif kind == "uuid":
            value = self.fake.uuid4()
        elif kind == "postcode":
            value = self.fake.postcode()
        elif kind == "date":
            # Faker's date() draws up to "now": a fixed range keeps the file reproducible.
            day = self.fake.date_between_dates(date(1970, 1, 1), date(2029, 12, 31))
            value = day.strftime(
                self.choice(("%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d", "%m/%d/%Y", "%Y年%m月%d日"))
            )
        elif kind == "time":
            value = f"{self.rng.randrange(24):02d}:{self.rng.randrange(60):02d}"
            if self.rng.random() < 0.3:
                value += f":{self.rng.randrange(60):02d}"
        else:  # ticket
            value = self.choice(
                (f"#{self.rng.randrange(1000, 99999)}", f"OPS-{self.rng.randrange(100, 9999)}")
            )
        frame = self.choice(self.lang.clean_frames)
        return frame.replace("{what}", self.lang.clean_what[kind]).replace("{v}", value), kind


def generate() -> list[dict[str, object]]:
    messages: list[dict[str, object]] = []
    for index, locale in enumerate(LOCALES):
        generator = Generator(locale, index)
        for category, count in PER_LOCALE.items():
            for n in range(count):
                text, spans = generator.sensitive(category)
                for span in spans:
                    assert text[span["start"] : span["end"]] == span["value"], span
                messages.append(
                    {
                        "id": f"{locale}-{category}-{n}",
                        "locale": locale,
                        "region": generator.region,
                        "kind": "sensitive",
                        "text": text,
                        "spans": spans,
                    }
                )
        for n in range(CLEAN_PER_LOCALE):
            text, subkind = generator.clean(n)
            messages.append(
                {
                    "id": f"{locale}-clean-{n}",
                    "locale": locale,
                    "region": generator.region,
                    "kind": "clean",
                    "subkind": subkind,
                    "text": text,
                    "spans": [],
                }
            )
    return messages


def render() -> str:
    return "".join(
        json.dumps(message, ensure_ascii=False, sort_keys=True) + "\n" for message in generate()
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args()
    content = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != content:
            print(f"{OUTPUT} is stale: run python tools/make_redaction_corpus.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(content, encoding="utf-8")
    lines = content.count("\n")
    print(
        f"wrote {lines} messages to {OUTPUT.relative_to(Path.cwd()) if OUTPUT.is_relative_to(Path.cwd()) else OUTPUT}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
