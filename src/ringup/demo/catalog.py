"""The demo operator's catalog: the three segment solutions of a Russian cloud-telephony
provider, with paid options, numbers, minute bundles and related products (RUB/month)."""

from decimal import Decimal as D

from django.db import transaction

from ringup.catalog.models import (
    NumberKind,
    NumberOffer,
    Option,
    Plan,
    RelatedProduct,
    TrafficPackage,
)

PLANS = [
    {
        "code": "virtual-number",
        "name": "Virtual Number",
        "segment": "micro",
        "tagline": "Be reachable on one local number, wherever your team is",
        "description": "A multi-channel local number forwarded to mobiles, a home phone, a "
        "softphone or the app. For firms of up to 4 people.",
        "highlights": [
            "Multi-channel local number included",
            "Forwarding to mobile, home phone, softphone or app",
            "Voicemail, fax to e-mail, caller ID",
            "Time-of-day routing, black and white lists",
            "Outgoing calls via an access number",
        ],
        "features": [],
        "monthly_fee": D("490"),
        "per_employee": D("0"),
        "min_employees": 1,
        "max_employees": 4,
        "included_numbers": 1,
        "annual_discount_percent": D("15"),
        "max_manager_discount_percent": D("10"),
        "trial_days": 14,
        "sort_order": 10,
    },
    {
        "code": "office-pbx",
        "name": "Office PBX",
        "segment": "smb",
        "tagline": "A cloud PBX for teams with departments and a few sales people",
        "description": "Short internal numbers, a voice menu, simple call distribution and "
        "answered/missed-call reports per employee.",
        "highlights": [
            "2 local numbers included, 8-800 on request",
            "Short internal numbers, free internal calls",
            "IVR voice menu and several routing schemes",
            "Mobile convergence: mobiles as extensions",
            "Secretary workplace, missed-call reports per employee",
        ],
        "features": ["internal_calls", "ivr", "mobile_integration"],
        "monthly_fee": D("890"),
        "per_employee": D("75"),
        "min_employees": 2,
        "max_employees": 200,
        "included_numbers": 2,
        "annual_discount_percent": D("15"),
        "max_manager_discount_percent": D("15"),
        "trial_days": 14,
        "sort_order": 20,
    },
    {
        "code": "contact-centre",
        "name": "Contact Centre",
        "segment": "enterprise",
        "tagline": "For teams where a lost call is a lost client",
        "description": "100-channel numbers, multi-level IVR announcing the expected wait, "
        "queues with many distribution algorithms and statistics down to each agent.",
        "highlights": [
            "5 local 100-channel numbers included",
            "Multi-level IVR announcing the expected wait",
            "Unlimited ring groups, routing to the last agent spoken to",
            "Barge-in, listen and whisper; manual queue control",
            "CRM and mobile integration, call pop-up cards",
        ],
        "features": ["internal_calls", "ivr", "queues", "crm_integration", "mobile_integration"],
        "monthly_fee": D("2490"),
        "per_employee": D("95"),
        "setup_fee": D("4900"),
        "min_employees": 5,
        "max_employees": 5000,
        "included_numbers": 5,
        "annual_discount_percent": D("10"),
        "max_manager_discount_percent": D("20"),
        "trial_days": 30,
        "sort_order": 30,
    },
]

# code, name, description, monthly, setup, per_employee, advisor feature, plans
OPTIONS = [
    (
        "call-recording",
        "Call recording",
        "All calls recorded and kept 90 days, with search and download.",
        "190",
        "0",
        False,
        "call_recording",
        ["virtual-number"],
    ),
    (
        "call-recording-pro",
        "Call recording for every employee",
        "Recording per employee, kept one year, with access rights by department.",
        "49",
        "0",
        True,
        "call_recording",
        ["office-pbx"],
    ),
    (
        "crm-basic",
        "Simple CRM integration",
        "Calls and missed calls appear in amoCRM or Bitrix24.",
        "290",
        "0",
        False,
        "crm_integration",
        ["virtual-number"],
    ),
    (
        "crm-integration",
        "CRM integration",
        "Pop-up cards, click-to-call and call history in amoCRM, Bitrix24 or RetailCRM.",
        "490",
        "1990",
        False,
        "crm_integration",
        ["office-pbx"],
    ),
    (
        "missed-call-sms",
        "SMS notice of missed calls",
        "An SMS to the responsible employee after every missed call.",
        "149",
        "0",
        False,
        "",
        ["virtual-number", "office-pbx"],
    ),
    (
        "callback-widget",
        "Website call-back button",
        "Visitors leave a number, the PBX calls them back within 30 seconds.",
        "390",
        "0",
        False,
        "",
        ["office-pbx", "contact-centre"],
    ),
    (
        "speech-analytics",
        "Speech analytics",
        "Transcripts, keyword alerts and script checks for every agent.",
        "120",
        "0",
        True,
        "",
        ["contact-centre"],
    ),
    (
        "wallboard",
        "Real-time wallboard",
        "Queue length, waiting callers and agent states on a screen for supervisors.",
        "990",
        "0",
        False,
        "",
        ["contact-centre"],
    ),
    (
        "archive-3y",
        "Recording archive, 3 years",
        "Every recorded call kept three years for quality control and disputes.",
        "1490",
        "0",
        False,
        "call_recording",
        ["contact-centre"],
    ),
]

NUMBERS = [
    ("local-number", NumberKind.LOCAL, "Extra local number", "290", "0"),
    ("tollfree-8800", NumberKind.TOLLFREE, "Toll-free 8-800 number", "1490", "2990"),
]

# code, name, minutes, monthly fee, plans
PACKAGES = [
    ("min-300", "300 minutes to Russian numbers", 300, "390", ["virtual-number"]),
    (
        "min-1000",
        "1,000 minutes to Russian numbers",
        1000,
        "1100",
        ["virtual-number", "office-pbx"],
    ),
    (
        "min-3000",
        "3,000 minutes to Russian numbers",
        3000,
        "2900",
        ["office-pbx", "contact-centre"],
    ),
    ("min-10000", "10,000 minutes to Russian numbers", 10000, "8900", ["contact-centre"]),
]

# plan, option or plan, pitch, weight
RELATED = [
    ("virtual-number", "call-recording", "Settle disputes with a recording of every call", 3),
    ("virtual-number", "plan:office-pbx", "Growing past 4 people? Give everyone an extension", 2),
    ("virtual-number", "missed-call-sms", "Never miss a caller while you are on the road", 1),
    ("office-pbx", "crm-integration", "See who is calling before you answer", 3),
    ("office-pbx", "callback-widget", "Turn website visitors into calls", 2),
    ("office-pbx", "plan:contact-centre", "4+ sales agents? Queues keep every caller", 1),
    ("contact-centre", "speech-analytics", "Check every call against your sales script", 3),
    ("contact-centre", "wallboard", "Show the queue to the team in real time", 2),
]


@transaction.atomic
def load_catalog() -> dict[str, Plan]:
    """Create or update the demo catalog; running it twice changes nothing."""
    plans = {}
    for spec in PLANS:
        plan, _ = Plan.objects.update_or_create(code=spec["code"], defaults=spec)
        plans[plan.code] = plan
    for code, name, text, monthly, setup, per_emp, feature, on_plans in OPTIONS:
        option, _ = Option.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "description": text,
                "monthly_fee": D(monthly),
                "setup_fee": D(setup),
                "per_employee": per_emp,
                "feature": feature,
            },
        )
        option.plans.set([plans[p] for p in on_plans])
    for code, kind, name, monthly, setup in NUMBERS:
        offer, _ = NumberOffer.objects.update_or_create(
            code=code,
            defaults={"kind": kind, "name": name, "monthly_fee": D(monthly), "setup_fee": D(setup)},
        )
        offer.plans.set(plans.values())
    for code, name, minutes, monthly, on_plans in PACKAGES:
        package, _ = TrafficPackage.objects.update_or_create(
            code=code, defaults={"name": name, "minutes": minutes, "monthly_fee": D(monthly)}
        )
        package.plans.set([plans[p] for p in on_plans])
    RelatedProduct.objects.filter(plan__in=plans.values()).delete()
    for plan_code, target, pitch, weight in RELATED:
        target_plan = plans[target.removeprefix("plan:")] if target.startswith("plan:") else None
        RelatedProduct.objects.create(
            plan=plans[plan_code],
            related_plan=target_plan,
            option=None if target_plan else Option.objects.get(code=target),
            pitch=pitch,
            weight=weight,
        )
    return plans
