"""The demo operator's customer portal: help articles in English and Russian, and a portal
login for one demo customer with a history (invoices, payments, calls)."""

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count

from ringup.billing.models import Subscription
from ringup.customers.models import Customer
from ringup.portal.models import HelpArticle

PORTAL_EMAIL, PORTAL_PASSWORD = "customer@ringup.example", "ringup-demo"

GUIDE, FAQ = HelpArticle.Category.GUIDE, HelpArticle.Category.FAQ

# slug, category, order, {language: (title, summary, body)}
ARTICLES = [
    (
        "softphone",
        GUIDE,
        10,
        {
            "en": (
                "Set up a softphone on your computer or phone",
                "Connect Zoiper, MicroSIP or Linphone to your extension in five minutes.",
                """Any SIP softphone works with your cloud PBX. We recommend MicroSIP on Windows,
Zoiper on macOS and Linphone on Android and iPhone: all are free.

In the PBX control panel open Employees, choose the employee and copy three
values from the SIP account card: the login (for example 101), the password
and the server address sip.ringup.example.

In the softphone add a new SIP account. Enter the login as both user name and
authorisation name, the password, and the server as domain. Leave the port at
5060 and the transport at UDP unless your network blocks it; then choose TLS
and port 5061.

Save the account. The status turns green ("Registered") within a few seconds.
Call 9999, the echo test, to check that you hear yourself clearly.

If the status stays red, check the password first, then ask your network
administrator to allow outgoing UDP traffic to ports 5060 and 10000–20000.""",
            ),
            "ru": (
                "Как настроить софтфон на компьютере или смартфоне",
                "Подключите Zoiper, MicroSIP или Linphone к внутреннему номеру за пять минут.",
                """С облачной АТС работает любой SIP-софтфон. Мы советуем MicroSIP для Windows,
Zoiper для macOS и Linphone для Android и iPhone — все они бесплатны.

В панели управления АТС откройте «Сотрудники», выберите сотрудника и
скопируйте из карточки SIP- аккаунта три значения: логин (например, 101),
пароль и адрес сервера sip.ringup.example.

В софтфоне добавьте новый SIP-аккаунт. Укажите логин как имя пользователя и
как имя для авторизации, пароль и сервер в поле «домен». Порт оставьте 5060,
транспорт — UDP; если сеть его блокирует, выберите TLS и порт 5061.

Сохраните аккаунт. Через несколько секунд статус станет зелёным
(«Зарегистрирован»). Позвоните на 9999 — эхо-тест — и проверьте, что хорошо
себя слышите.

Если статус остаётся красным, сначала проверьте пароль, затем попросите
администратора сети разрешить исходящий UDP-трафик на порты 5060 и
10000–20000.""",
            ),
        },
    ),
    (
        "forward-to-mobile",
        GUIDE,
        20,
        {
            "en": (
                "Forward calls to a mobile phone",
                "Take office calls anywhere: always, when busy, or when nobody answers.",
                """Forwarding sends calls for an extension or a whole number to any phone,
including a mobile. Calls forwarded to Russian mobiles are charged at your
plan's mobile rate.

In the control panel open Employees, choose the employee and open the
Forwarding tab. Pick when to forward: always, when the extension is busy, when
nobody answers within a number of seconds (20 is a good start), or when the
softphone is offline.

Enter the mobile number in international format, for example +7 916 123-45-67,
and save. Call the office number from another phone to check.

To ring the desk phone and the mobile at the same time instead, choose
"Parallel ringing" on the same tab. The first one to answer takes the call.""",
            ),
            "ru": (
                "Переадресация на мобильный телефон",
                "Принимайте звонки в офис где угодно: всегда, при занятости или без ответа.",
                """Переадресация направляет звонки на внутренний номер или на весь номер компании
на любой телефон, в том числе мобильный. Звонки, переадресованные на
российские мобильные, тарифицируются по мобильному тарифу вашего плана.

В панели управления откройте «Сотрудники», выберите сотрудника и вкладку
«Переадресация». Выберите, когда переадресовывать: всегда, если номер занят,
если никто не ответил за заданное число секунд (для начала подойдёт 20) или
если софтфон не в сети.

Введите мобильный номер в международном формате, например +7 916 123-45-67, и
сохраните. Позвоните на офисный номер с другого телефона, чтобы проверить.

Чтобы одновременно звонили и рабочий, и мобильный телефон, выберите на той же
вкладке «Параллельный вызов». Звонок достанется тому, кто ответит первым.""",
            ),
        },
    ),
    (
        "ivr",
        GUIDE,
        30,
        {
            "en": (
                "Set up a voice menu (IVR)",
                "Greet callers and let them choose a department: sales, support, accounts.",
                """A voice menu answers every call with a greeting and sends the caller where
they choose: "press 1 for sales, 2 for support".

In the control panel open Routing, then Voice menus, and create a menu. Upload
the greeting as an MP3 or WAV file, or type its text and let the speech
synthesiser read it.

For each key choose where it leads: an employee, a ring group (a department),
another menu, or voicemail. Set what happens when the caller presses nothing
for 5 seconds — usually the reception's ring group.

Finally open Numbers, choose your company number and set the new menu as its
first step. Different working hours can have different menus: add a time
condition before the menu.""",
            ),
            "ru": (
                "Как настроить голосовое меню (IVR)",
                "Приветствие и выбор отдела: продажи, поддержка, бухгалтерия.",
                """Голосовое меню отвечает на каждый звонок приветствием и направляет звонящего
туда, куда он выберет: «нажмите 1 — отдел продаж, 2 — поддержка».

В панели управления откройте «Маршрутизация» → «Голосовые меню» и создайте
меню. Загрузите приветствие в формате MP3 или WAV или напишите текст, и его
озвучит синтезатор речи.

Для каждой клавиши выберите, куда она ведёт: сотрудник, группа (отдел), другое
меню или голосовая почта. Укажите, что делать, если звонящий 5 секунд ничего
не нажимает, — обычно это группа ресепшен.

Наконец, откройте «Номера», выберите номер компании и назначьте новое меню
первым шагом. Для разного рабочего времени можно сделать разные меню: добавьте
перед меню условие по времени.""",
            ),
        },
    ),
    (
        "call-recording",
        GUIDE,
        40,
        {
            "en": (
                "Record calls and listen to them",
                "Turn recording on, find a call, download it, and tell callers about it.",
                """Call recording is an option: add it on your overview page and it works at
once. Recordings are kept 90 days, or a year with recording for every
employee.

To choose whose calls are recorded, open Call recording in the control panel.
Record everyone, only some employees, or only incoming or outgoing calls.

Find a recording in Call history: filter by date, employee or number and press
play. The download button saves an MP3 file.

The law requires telling callers that the call is recorded. Add a short notice
to your greeting, for example "Calls are recorded to improve our service".""",
            ),
            "ru": (
                "Запись разговоров и прослушивание",
                "Включите запись, найдите звонок, скачайте его и предупредите звонящих.",
                """Запись разговоров — это опция: подключите её на странице обзора, и она сразу
начнёт работать. Записи хранятся 90 дней, а с записью для каждого сотрудника —
год.

Чьи звонки записывать, выберите в панели управления в разделе «Запись
разговоров»: всех, только некоторых сотрудников, только входящие или только
исходящие.

Запись ищите в «Истории звонков»: отфильтруйте по дате, сотруднику или номеру
и нажмите «Воспроизвести». Кнопка загрузки сохраняет файл MP3.

Закон требует предупреждать собеседника о записи. Добавьте в приветствие
короткую фразу, например: «Разговоры записываются для улучшения качества
обслуживания».""",
            ),
        },
    ),
    (
        "invoices",
        FAQ,
        10,
        {
            "en": (
                "How are my invoices calculated?",
                "Billing in arrears, changes during the month, included minutes and VAT.",
                """We invoice at the end of each billing period, for the period just ended: the
monthly fee of your plan, employees and options, and the calls of that period.

If you change something during the period — add an option, add employees,
change plan — the invoice shows two lines: a credit for the unused time at the
old price and a charge for the rest of the period at the new price, counted to
the second. You never pay twice for the same days.

Minutes included in your bundle are taken first, in the order the calls were
made. Calls abroad are not covered by a bundle of minutes to Russian numbers.

All prices include VAT 20%. The invoice shows the VAT of every line.

The overview page always shows your next invoice as it stands today, so there
are no surprises.""",
            ),
            "ru": (
                "Как рассчитывается мой счёт?",
                "Оплата по факту, изменения в течение месяца, пакет минут и НДС.",
                """Мы выставляем счёт в конце каждого расчётного периода за прошедший период:
абонентская плата за тариф, сотрудников и опции, а также звонки этого периода.

Если в течение периода вы что-то меняете — подключаете опцию, добавляете
сотрудников, меняете тариф, — в счёте будут две строки: возврат за
неиспользованное время по старой цене и начисление за остаток периода по
новой, с точностью до секунды. Вы никогда не платите дважды за одни и те же
дни.

Минуты пакета расходуются первыми, в порядке совершения звонков. Международные
звонки в пакет минут по России не входят.

Все цены включают НДС 20%. В счёте указан НДС каждой строки.

На странице обзора всегда виден ваш следующий счёт на сегодня, так что
сюрпризов не будет.""",
            ),
        },
    ),
    (
        "payment",
        FAQ,
        20,
        {
            "en": (
                "How do I pay, and what if I pay late?",
                "Bank transfer with the invoice number, and what happens after the due date.",
                """Pay by bank transfer to the account printed on the invoice, with the reference
shown on it ("Invoice INV-000123, customer 42"). The payment appears in your
account the next working day.

Invoices are due 10 days after they are issued unless your contract says
otherwise.

Three days after the due date your account is marked overdue and we remind
you. After 14 days the service is suspended until the invoice is paid; it
resumes automatically as soon as the payment arrives.""",
            ),
            "ru": (
                "Как оплатить и что будет при просрочке?",
                "Банковский перевод с номером счёта и что происходит после срока оплаты.",
                """Оплатите банковским переводом на реквизиты из счёта, указав назначение платежа
из счёта («Счёт INV-000123, клиент 42»). Платёж отразится в личном кабинете на
следующий рабочий день.

Срок оплаты — 10 дней с даты счёта, если в договоре не указано иное.

Через три дня после срока оплаты мы напомним о задолженности. Через 14 дней
услуга приостанавливается до оплаты и возобновляется автоматически, как только
поступит платёж.""",
            ),
        },
    ),
]


@dataclass(frozen=True)
class PortalDemo:
    articles: int
    customer: Customer | None
    login: str

    @property
    def message(self) -> str:
        who = f" as {self.customer.name}" if self.customer else ""
        return (
            f"Customer portal: {settings.PUBLIC_URL}/portal/ — {self.login}{who}; "
            f"{self.articles} help articles."
        )


def load_help_articles() -> int:
    """Create or update the demo help articles; running it twice changes nothing."""
    count = 0
    for slug, category, order, versions in ARTICLES:
        for language, (title, summary, body) in versions.items():
            HelpArticle.objects.update_or_create(
                language=language,
                slug=slug,
                defaults={
                    "title": title,
                    "summary": summary,
                    "body": body,
                    "category": category,
                    "order": order,
                    "published": True,
                },
            )
            count += 1
    return count


def _demo_customer() -> Customer | None:
    """The customer with an active Office PBX and the longest invoice history."""
    active = Subscription.objects.filter(
        status=Subscription.Status.ACTIVE, plan__code="office-pbx", ended_at__isnull=True
    )
    return (
        Customer.objects.filter(pk__in=active.values("customer_id"), user__isnull=True)
        .annotate(invoice_count=Count("invoices", distinct=True))
        .order_by("-invoice_count", "pk")
        .first()
    )


@transaction.atomic
def load_portal_demo() -> PortalDemo:
    """Help articles, and the login ``customer@ringup.example`` / ``ringup-demo`` for one
    demo customer. An existing login keeps its password, and its customer if it has one."""
    articles = load_help_articles()
    users = get_user_model().objects
    user = users.filter(username=PORTAL_EMAIL).first()
    linked = Customer.objects.filter(user=user).first() if user is not None else None
    if linked is not None:
        return PortalDemo(articles, linked, f"{PORTAL_EMAIL} (already existed, password unchanged)")
    customer = _demo_customer()
    if customer is None:
        return PortalDemo(articles, None, "no customer with a history to log in as")
    if user is None:
        user = users.create_user(PORTAL_EMAIL, PORTAL_EMAIL, PORTAL_PASSWORD)
        login = f"{PORTAL_EMAIL}, password {PORTAL_PASSWORD}"
    else:
        login = f"{PORTAL_EMAIL} (already existed, password unchanged)"
    customer.user = user
    customer.language = "en"
    customer.save(update_fields=["user", "language"])
    if apps.is_installed("allauth.account"):
        apps.get_model("account", "EmailAddress").objects.update_or_create(
            user=user, email=PORTAL_EMAIL, defaults={"verified": True, "primary": True}
        )
    return PortalDemo(articles, customer, login)
