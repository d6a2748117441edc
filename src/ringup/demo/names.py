"""Plausible Russian firm names, people, e-mail addresses and phone numbers for the demo.

Every function draws its random choices as whole arrays from the caller's generator, so
the same seed always yields the same names; only the final string assembly is per row.
"""

import numpy as np

# (Cyrillic, Latin transliteration for e-mail addresses and domains)
NAME_ROOTS = [
    ("Альфа", "alfa"),
    ("Вектор", "vektor"),
    ("Север", "sever"),
    ("Гранит", "granit"),
    ("Меридиан", "meridian"),
    ("Прогресс", "progress"),
    ("Орион", "orion"),
    ("Радуга", "raduga"),
    ("Спектр", "spektr"),
    ("Форвард", "forvard"),
    ("Эталон", "etalon"),
    ("Атлант", "atlant"),
    ("Байкал", "baikal"),
    ("Волга", "volga"),
    ("Сибирь", "sibir"),
    ("Урал", "ural"),
    ("Янтарь", "yantar"),
    ("Кедр", "kedr"),
    ("Лидер", "lider"),
    ("Навигатор", "navigator"),
    ("Омега", "omega"),
    ("Пульс", "puls"),
    ("Ресурс", "resurs"),
    ("Стимул", "stimul"),
    ("Фаворит", "favorit"),
    ("Гелиос", "gelios"),
    ("Дельта", "delta"),
    ("Зенит", "zenit"),
    ("Импульс", "impuls"),
    ("Квант", "kvant"),
    ("Магистраль", "magistral"),
    ("Нева", "neva"),
    ("Олимп", "olimp"),
    ("Парус", "parus"),
    ("Рубин", "rubin"),
    ("Сфера", "sfera"),
    ("Феникс", "feniks"),
    ("Элемент", "element"),
    ("Интел", "intel"),
    ("Техно", "tehno"),
]
NAME_ENDINGS = [
    ("Логистик", "logistik"),
    ("Строй", "stroi"),
    ("Трейд", "treid"),
    ("Сервис", "servis"),
    ("Групп", "grupp"),
    ("Медиа", "media"),
    ("Софт", "soft"),
    ("Консалт", "konsalt"),
    ("Мед", "med"),
    ("Пром", "prom"),
    ("Авто", "avto"),
    ("Агро", "agro"),
    ("Маркет", "market"),
    ("Девелопмент", "development"),
    ("Финанс", "finans"),
    ("Энерго", "energo"),
    ("Транс", "trans"),
    ("Снаб", "snab"),
    ("Проект", "proekt"),
    ("Телеком", "telekom"),
]
# (first name, its Latin form, patronymic formed from it: masculine, feminine)
MALE_NAMES = [
    ("Александр", "aleksandr", "Александрович", "Александровна"),
    ("Алексей", "aleksei", "Алексеевич", "Алексеевна"),
    ("Андрей", "andrei", "Андреевич", "Андреевна"),
    ("Дмитрий", "dmitrii", "Дмитриевич", "Дмитриевна"),
    ("Евгений", "evgenii", "Евгеньевич", "Евгеньевна"),
    ("Иван", "ivan", "Иванович", "Ивановна"),
    ("Игорь", "igor", "Игоревич", "Игоревна"),
    ("Максим", "maksim", "Максимович", "Максимовна"),
    ("Михаил", "mikhail", "Михайлович", "Михайловна"),
    ("Николай", "nikolai", "Николаевич", "Николаевна"),
    ("Олег", "oleg", "Олегович", "Олеговна"),
    ("Павел", "pavel", "Павлович", "Павловна"),
    ("Роман", "roman", "Романович", "Романовна"),
    ("Сергей", "sergei", "Сергеевич", "Сергеевна"),
    ("Владимир", "vladimir", "Владимирович", "Владимировна"),
    ("Юрий", "yurii", "Юрьевич", "Юрьевна"),
]
FEMALE_NAMES = [
    ("Анна", "anna"),
    ("Елена", "elena"),
    ("Екатерина", "ekaterina"),
    ("Ирина", "irina"),
    ("Марина", "marina"),
    ("Мария", "mariya"),
    ("Наталья", "natalya"),
    ("Ольга", "olga"),
    ("Светлана", "svetlana"),
    ("Татьяна", "tatyana"),
    ("Юлия", "yuliya"),
    ("Дарья", "darya"),
]
# Masculine forms; every one takes the feminine ending "-а" (Иванов → Иванова).
SURNAMES = [
    ("Иванов", "ivanov"),
    ("Смирнов", "smirnov"),
    ("Кузнецов", "kuznetsov"),
    ("Попов", "popov"),
    ("Васильев", "vasilev"),
    ("Петров", "petrov"),
    ("Соколов", "sokolov"),
    ("Михайлов", "mikhailov"),
    ("Новиков", "novikov"),
    ("Фёдоров", "fedorov"),
    ("Морозов", "morozov"),
    ("Волков", "volkov"),
    ("Алексеев", "alekseev"),
    ("Лебедев", "lebedev"),
    ("Семёнов", "semenov"),
    ("Егоров", "egorov"),
    ("Павлов", "pavlov"),
    ("Козлов", "kozlov"),
    ("Степанов", "stepanov"),
    ("Николаев", "nikolaev"),
    ("Орлов", "orlov"),
    ("Андреев", "andreev"),
    ("Макаров", "makarov"),
    ("Никитин", "nikitin"),
    ("Захаров", "zakharov"),
    ("Зайцев", "zaitsev"),
    ("Соловьёв", "solovev"),
    ("Борисов", "borisov"),
    ("Белов", "belov"),
    ("Гусев", "gusev"),
]
COMPANY_MAILBOXES = ["info", "office", "mail", "hello", "zakaz", "sales"]
PERSONAL_MAIL_DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru"]
TOP_LEVEL_DOMAINS = {"RU": "ru", "KZ": "kz", "BY": "by"}

# E.164 prefixes with relative weights, and the full length of a number in the country.
CITY_PREFIXES = {
    "RU": {
        "+7495": 30,
        "+7499": 10,
        "+7812": 15,
        "+7343": 5,
        "+7383": 5,
        "+7846": 4,
        "+7843": 4,
        "+7863": 4,
        "+7861": 4,
        "+7831": 4,
        "+7342": 3,
        "+7473": 3,
    },
    "KZ": {"+77272": 1, "+77273": 1, "+77172": 1},  # Almaty, Astana
    "BY": {"+37517": 1},
}
MOBILE_PREFIXES = {
    "RU": dict.fromkeys(["+7916", "+7926", "+7903", "+7915", "+7925", "+7977", "+7921"], 1),
    "KZ": dict.fromkeys(["+7701", "+7705", "+7707", "+7777"], 1),
    "BY": dict.fromkeys(["+37529", "+37533", "+37544"], 1),
}
NUMBER_LENGTH = {"RU": 12, "KZ": 12, "BY": 13}


def firm_names(rng: np.random.Generator, forms: np.ndarray) -> tuple[list[str], list[str]]:
    """Names like «Альфа Логистик» or «Векторстрой» under each legal form, with the
    Latin slug used for the firm's domain."""
    n = len(forms)
    roots = rng.integers(len(NAME_ROOTS), size=n)
    endings = rng.integers(len(NAME_ENDINGS), size=n)
    fused = rng.random(n) < 0.5
    names, slugs = [], []
    for form, root, ending, joined in zip(
        forms.tolist(), roots.tolist(), endings.tolist(), fused.tolist(), strict=True
    ):
        (root_ru, root_lat), (end_ru, end_lat) = NAME_ROOTS[root], NAME_ENDINGS[ending]
        if joined:
            names.append(f"{form} «{root_ru}{end_ru.lower()}»")
            slugs.append(f"{root_lat}{end_lat}")
        else:
            names.append(f"{form} «{root_ru} {end_ru}»")
            slugs.append(f"{root_lat}-{end_lat}")
    return names, slugs


def people(rng: np.random.Generator, male: np.ndarray) -> dict[str, list[str]]:
    """Full names (surname, first name, patronymic) of the given sexes, and Latin forms of
    the first name and surname."""
    n = len(male)
    first_m = rng.integers(len(MALE_NAMES), size=n)
    first_f = rng.integers(len(FEMALE_NAMES), size=n)
    fathers = rng.integers(len(MALE_NAMES), size=n)
    surnames = rng.integers(len(SURNAMES), size=n)
    full, first_lat, surname_lat = [], [], []
    for is_male, fm, ff, father, surname in zip(
        male.tolist(),
        first_m.tolist(),
        first_f.tolist(),
        fathers.tolist(),
        surnames.tolist(),
        strict=True,
    ):
        name_ru, name_lat = MALE_NAMES[fm][:2] if is_male else FEMALE_NAMES[ff]
        patronymic = MALE_NAMES[father][2 if is_male else 3]
        family_ru, family_lat = SURNAMES[surname]
        if not is_male:
            family_ru, family_lat = family_ru + "а", family_lat + "a"
        full.append(f"{family_ru} {name_ru} {patronymic}")
        first_lat.append(name_lat)
        surname_lat.append(family_lat)
    return {"full": full, "first_lat": first_lat, "surname_lat": surname_lat}


def phone_numbers(
    rng: np.random.Generator, countries: np.ndarray, prefixes: dict[str, dict[str, int]]
) -> np.ndarray:
    """E.164 numbers in each row's country; subscriber numbers never start with 0 or 1."""
    numbers = np.empty(len(countries), dtype=f"U{max(NUMBER_LENGTH.values())}")
    for country, weights in prefixes.items():
        rows = np.flatnonzero(countries == country)
        codes = list(weights)
        p = np.array(list(weights.values()), dtype=float)
        chosen = rng.choice(len(codes), size=len(rows), p=p / p.sum())
        for index, code in enumerate(codes):
            at = rows[chosen == index]
            digits = NUMBER_LENGTH[country] - len(code)
            subscriber = rng.integers(2 * 10 ** (digits - 1), 10**digits, size=len(at))
            numbers[at] = [f"{code}{number}" for number in subscriber.tolist()]
    return numbers
