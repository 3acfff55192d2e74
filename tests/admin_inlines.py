"""What a design's or a policy's admin form posts for its translations inline when none is
added (consent.admin): Django's management form, which a browser always sends."""

NO_TRANSLATIONS = {
    "translations-TOTAL_FORMS": "0",
    "translations-INITIAL_FORMS": "0",
    "translations-MIN_NUM_FORMS": "0",
    "translations-MAX_NUM_FORMS": "1000",
}
