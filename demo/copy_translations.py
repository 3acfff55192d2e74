# ruff: noqa: RUF001 -- each language's own punctuation (en dash, full-width marks) is correct there
"""The demo's consent copy in German, French, Spanish and Japanese (issue 15).

Each is the English copy of the seeded designs (consent migration 0004) and the demo
policy (seed_demo) said the way a native speaker would say it: German and French address
the reader as the product's German catalog does (du, locale/README.md), French formally (vous),
Spanish informally (tú, as consumer products there do),
Japanese politely (です/ます). ``accept_toggle_off`` has only an unreviewed French draft,
so a French reader shown it sees English with a note: the fallback, on purpose.
"""

ACCEPT_TOGGLE = ("accept_toggle_on", "accept_toggle_off")

BODY = {
    "de": (
        "Wir möchten deine Unterhaltungen nutzen, um unsere künftigen Modelle zu trainieren und "
        "zu verbessern. Du entscheidest – und kannst deine Entscheidung jederzeit ändern."
    ),
    "fr": (
        "Nous aimerions utiliser vos conversations pour entraîner et améliorer nos futurs "
        "modèles. C'est vous qui décidez, et vous pouvez changer d'avis à tout moment."
    ),
    "es": (
        "Nos gustaría usar tus conversaciones para entrenar y mejorar nuestros futuros modelos. "
        "Tú decides, y puedes cambiar de opinión en cualquier momento."
    ),
    "ja": (
        "今後のモデルの学習と改善のために、あなたの会話を使わせていただきたいと考えています。"
        "使うかどうかはあなたが決められ、いつでも変更できます。"
    ),
}

LEARN_MORE = {
    "de": (
        "Bevor etwas verwendet wird, entfernen wir E-Mail-Adressen, Telefonnummern, "
        "Kartennummern, IBANs, IP-Adressen und Geheimnisse wie API-Schlüssel. Deine Kontodaten "
        "sind nie Teil der Trainingsdaten. Wenn du das später ausschaltest, wird keiner deiner "
        "Chats in einem künftigen Trainingslauf verwendet."
    ),
    "fr": (
        "Avant toute utilisation, nous supprimons les adresses e-mail, les numéros de téléphone "
        "et de carte bancaire, les IBAN, les adresses IP et les secrets comme les clés d'API. "
        "Les informations de votre compte ne font jamais partie des données d'entraînement. "
        "Si vous désactivez cette option plus tard, aucune de vos conversations ne sera "
        "utilisée dans un entraînement futur."
    ),
    "es": (
        "Antes de usar nada, eliminamos direcciones de correo electrónico, números de teléfono "
        "y de tarjeta, IBAN, direcciones IP y secretos como las claves de API. Los datos de tu "
        "cuenta nunca forman parte de los datos de entrenamiento. Si más adelante lo "
        "desactivas, ninguna de tus conversaciones se usará en futuros entrenamientos."
    ),
    "ja": (
        "利用の前に、メールアドレス、電話番号、カード番号、IBAN、IPアドレス、"
        "APIキーなどの秘密情報を削除します。アカウント情報が学習データに含まれることは"
        "ありません。後でオフにした場合、今後の学習にあなたのチャットが使われることは"
        "一切ありません。"
    ),
}

# The announcement's designs: the same words, the switch on or off by default.
ACCEPT_TOGGLE_COPY = {
    "de": {
        "headline": "Aktualisierung unserer Nutzungsbedingungen und Datenschutzerklärung",
        "accept_label": "Akzeptieren",
        "toggle_label": (
            "Du kannst helfen, das Modell zu verbessern, indem du erlaubst, dass deine Chats "
            "zum Training verwendet werden"
        ),
    },
    "fr": {
        "headline": (
            "Mise à jour de nos conditions d'utilisation et de notre politique de confidentialité"
        ),
        "accept_label": "Accepter",
        "toggle_label": (
            "Vous pouvez aider à améliorer le modèle en autorisant l'utilisation de vos "
            "conversations pour l'entraînement"
        ),
    },
    "es": {
        "headline": "Actualización de nuestros términos de uso y política de privacidad",
        "accept_label": "Aceptar",
        "toggle_label": (
            "Puedes ayudar a mejorar el modelo permitiendo que tus conversaciones se usen para "
            "el entrenamiento"
        ),
    },
    "ja": {
        "headline": "利用規約とプライバシーポリシーの更新",
        "accept_label": "同意する",
        "toggle_label": "チャットを学習に使うことを許可して、モデルの改善に協力できます",
    },
}

TWO_BUTTONS_COPY = {
    "de": {
        "headline": "Dürfen wir deine Chats zum Trainieren unserer Modelle verwenden?",
        "accept_label": "Erlauben",
        "decline_label": "Nicht erlauben",
    },
    "fr": {
        "headline": "Pouvons-nous utiliser vos conversations pour entraîner nos modèles\u00a0?",
        "accept_label": "Autoriser",
        "decline_label": "Ne pas autoriser",
    },
    "es": {
        "headline": "¿Podemos usar tus conversaciones para entrenar nuestros modelos?",
        "accept_label": "Permitir",
        "decline_label": "No permitir",
    },
    "ja": {
        "headline": "あなたのチャットをモデルの学習に使ってもよろしいですか？",
        "accept_label": "許可する",
        "decline_label": "許可しない",
    },
}


def design_translations() -> list[tuple[str, str, dict, bool]]:
    """(design key, language, copy, reviewed) for every seeded design."""
    rows = []
    for language in BODY:
        shared = {"body": BODY[language], "learn_more": LEARN_MORE[language]}
        rows.append(("two_buttons", language, {**shared, **TWO_BUTTONS_COPY[language]}, True))
        for key in ACCEPT_TOGGLE:
            reviewed = not (key == "accept_toggle_off" and language == "fr")
            rows.append((key, language, {**shared, **ACCEPT_TOGGLE_COPY[language]}, reviewed))
    return rows


POLICY = {
    "de": {
        "title": "Nutzungsbedingungen und Datenschutzerklärung",
        "summary": (
            "Wir möchten deine Chats nutzen, um unsere künftigen Modelle zu trainieren. Du "
            "entscheidest und kannst deine Wahl jederzeit ändern."
        ),
        "body": """\
1. Was wir verwenden würden. Wenn du zustimmst, kann der Text deiner Unterhaltungen mit dem Assistenten \
zum Trainieren und Verbessern unserer künftigen Modelle verwendet werden. Bevor eine Unterhaltung verwendet \
wird, entfernen wir E-Mail-Adressen, Telefonnummern, Kartennummern, Kontonummern (IBANs), nationale \
Identifikationsnummern (etwa Sozialversicherungs- oder Steuernummern), IP-Adressen und Geheimnisse wie \
Passwörter, API-Schlüssel, Zugriffstoken und private Schlüssel. Nicht entfernt werden Namen, Anschriften \
und anderes, was du in eigenen Worten über dich schreibst, sowie Telefonnummern im örtlichen Format \
eines anderen Landes.

2. Wie lange wir Unterhaltungen aufbewahren. Wenn du die Verwendung zum Training erlaubst, bewahren wir \
Unterhaltungen bis zu 5 Jahre nach ihrer letzten Nachricht auf. Wenn nicht, löschen wir sie 30 Tage nach \
ihrer letzten Nachricht.

3. Welche Unterhaltungen. Deine Entscheidung gilt für neue Unterhaltungen und für ältere, die du nach \
deiner Entscheidung wieder aufnimmst. Ältere Unterhaltungen, die du nicht wieder aufnimmst, werden nie \
verwendet, und für sie gilt weiter die 30-Tage-Regel.

4. Wenn du es dir anders überlegst. Du kannst deine Entscheidung jederzeit in den \
Datenschutzeinstellungen ändern. Schaltest du die Verwendung zum Training aus, wird keine deiner \
Unterhaltungen in einem künftigen Trainingslauf verwendet. Unterhaltungen, die bereits in einem \
Trainingslauf verwendet wurden, lassen sich daraus nicht mehr entfernen; die Datenschutzeinstellungen \
führen sie auf.

5. Die Frist. Bestehende Nutzerinnen und Nutzer können diese Entscheidung bis zur Frist aufschieben. \
Danach musst du dich entscheiden, bevor du weiterchatten kannst. Mit beiden Antworten geht es weiter.
""",
    },
    "fr": {
        "title": "Conditions d'utilisation et politique de confidentialité",
        "summary": (
            "Nous aimerions utiliser vos conversations pour entraîner nos futurs modèles. C'est "
            "vous qui décidez, et vous pouvez changer d'avis à tout moment."
        ),
        "body": """\
1. Ce que nous utiliserions. Si vous l'autorisez, le texte de vos conversations avec l'assistant pourra \
servir à entraîner et à améliorer nos futurs modèles. Avant d'utiliser une conversation, nous en retirons \
les adresses e-mail, les numéros de téléphone, les numéros de carte bancaire, les numéros de compte \
(IBAN), les numéros d'identification nationaux (numéro de sécurité sociale ou fiscal, par exemple), les \
adresses IP et les secrets comme les mots de passe, les clés d'API, les jetons d'accès et les clés \
privées. Nous ne retirons pas les noms, les adresses postales ni ce que vous écrivez sur vous-même avec \
vos propres mots, ni les numéros de téléphone écrits au format local d'un autre pays.

2. Combien de temps nous conservons les conversations. Si vous autorisez l'entraînement, les \
conversations sont conservées jusqu'à 5 ans après leur dernier message. Sinon, elles sont supprimées \
30 jours après leur dernier message.

3. Quelles conversations. Votre choix s'applique aux nouvelles conversations et aux anciennes que vous \
rouvrez après avoir décidé. Les anciennes conversations que vous ne rouvrez pas ne sont jamais utilisées \
et restent soumises à la règle des 30 jours.

4. Changer d'avis. Vous pouvez modifier votre choix à tout moment dans les paramètres de \
confidentialité. Si vous désactivez l'entraînement, aucune de vos conversations ne sera utilisée dans un \
entraînement futur. Les conversations déjà utilisées dans un entraînement ne peuvent pas en être \
retirées ; les paramètres de confidentialité en donnent la liste.

5. La date limite. Les utilisateurs existants peuvent reporter cette décision jusqu'à la date limite. \
Ensuite, il faudra choisir avant de pouvoir continuer à discuter. Les deux réponses vous permettent de \
continuer.
""",
    },
    "es": {
        "title": "Términos de uso y política de privacidad",
        "summary": (
            "Nos gustaría usar tus conversaciones para entrenar nuestros futuros modelos. Tú "
            "decides, y puedes cambiar de opinión en cualquier momento."
        ),
        "body": """\
1. Qué usaríamos. Si lo permites, el texto de tus conversaciones con el asistente podrá usarse para \
entrenar y mejorar nuestros futuros modelos. Antes de usar una conversación, eliminamos direcciones de \
correo electrónico, números de teléfono, números de tarjeta, números de cuenta bancaria (IBAN), números \
de identificación nacional (como el de la seguridad social o el fiscal), direcciones IP y secretos como \
contraseñas, claves de API, tokens de acceso y claves privadas. No eliminamos nombres, direcciones \
postales ni lo que escribas sobre ti con tus propias palabras, ni números de teléfono escritos en el \
formato local de otro país.

2. Cuánto tiempo conservamos las conversaciones. Si permites el uso para entrenamiento, las \
conversaciones se conservan hasta 5 años después de su último mensaje. Si no, se eliminan 30 días \
después de su último mensaje.

3. Qué conversaciones. Tu elección se aplica a las conversaciones nuevas y a las antiguas que vuelvas \
a abrir después de decidir. Las conversaciones antiguas que no vuelvas a abrir nunca se usan y siguen \
con la regla de los 30 días.

4. Si cambias de opinión. Puedes cambiar tu elección en cualquier momento en la configuración de \
privacidad. Si desactivas el uso para entrenamiento, ninguna de tus conversaciones se usará en futuros \
entrenamientos. Las conversaciones que ya se usaron en un entrenamiento no se pueden retirar de él; la \
configuración de privacidad las muestra.

5. La fecha límite. Si ya tienes una cuenta, puedes posponer esta decisión hasta la fecha límite. \
Después, tendrás que elegir para poder seguir chateando. Con cualquiera de las dos respuestas puedes \
continuar.
""",
    },
    "ja": {
        "title": "利用規約とプライバシーポリシー",
        "summary": (
            "今後のモデルの学習に、あなたのチャットを使わせていただきたいと考えています。"
            "使うかどうかはあなたが決められ、いつでも変更できます。"
        ),
        "body": """\
1. 使わせていただくもの。許可していただいた場合、アシスタントとの会話のテキストを、今後のモデルの\
学習と改善に使うことがあります。会話を使う前に、メールアドレス、電話番号、カード番号、銀行口座番号\
（IBAN）、国民識別番号（社会保障番号や納税者番号など）、IPアドレス、パスワード・APIキー・\
アクセストークン・秘密鍵などの秘密情報を削除します。名前、住所、ご自身について自分の言葉で書いた\
内容、他の国の形式で書かれた電話番号は削除されません。

2. 会話の保存期間。学習への利用を許可した場合、会話は最後のメッセージから最長5年間保存されます。\
許可しない場合、会話は最後のメッセージから30日後に削除されます。

3. 対象となる会話。この選択は、新しい会話と、選択した後に再開した過去の会話に適用されます。\
再開しない過去の会話が使われることはなく、30日で削除されるルールのままです。

4. 気が変わったとき。選択はプライバシー設定からいつでも変更できます。学習への利用をオフにすると、\
今後の学習にあなたの会話が使われることはありません。すでに学習に使われた会話を、その学習から\
取り除くことはできません。該当する会話はプライバシー設定で確認できます。

5. 期限。既存のユーザーは、期限までこの選択を保留できます。期限を過ぎると、チャットを続ける前に\
選択していただく必要があります。どちらを選んでも引き続きご利用いただけます。
""",
    },
}
