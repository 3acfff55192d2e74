"""English dates as the product has always written them: "4 December 2026, 17:00".

Django's own English formats are American ("Dec. 4, 2026, 5 p.m."); every other language
uses Django's formats for its locale ("4. Dezember 2026", "2026年12月4日").
"""

DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
