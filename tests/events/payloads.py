"""Realistic Kartra webhook payloads (fact sheet §7), values as strings like Kartra's samples."""

from __future__ import annotations

from typing import Any

from kartra_async._form import build_query

LEAD: dict[str, Any] = {
    "id": "1", "first_name": "John", "middle_name": "", "last_name": "Smith", "last_name2": "",
    "email": "john@example.com", "phone_country_code": "+1", "phone": "5551234", "company": "",
    "address": "1 Main St", "city": "Boston", "zip": "02108", "state": "MA", "country": "US",
    "date_joined": "2024-03-10 01:30:00", "website": "", "ip": "203.0.113.7",
    "ip_country": "United States", "facebook": "", "twitter": "", "linkedin": "",
    "google_plus": "", "sales_tax_id": "", "lead_picture": "", "source": "checkout",
    "score": "0", "lead_deleted": "0", "lead_deleted_date": "0000-00-00 00:00:00",
    "referring_id": "0", "blacklisted": "0", "source_id": "77", "gdpr_lead_status": "1",
    "gdpr_lead_status_date": "", "gdpr_lead_status_ip": "", "gdpr_lead_communications": "0",
    "lead_preferred_time_zone": "America/New_York",
    "custom_fields": [{"field_id": "3", "field_identifier": "nickname",
                       "field_type": "input_field", "field_value": "Johnny"}],
}

PURCHASE = {
    "transaction_id": "48110", "lead_first_name": "John", "lead_last_name": "Smith",
    "lead_email": "john@example.com", "lead_username": "jsmith", "lead_id": "1",
    "product_name": "Course", "product_id": "12", "product_price_point": "1",
    "transaction_quantity": "1", "transaction_full_amount": "97.00",
}

# action → action_details, one per documented action.
DETAILS: dict[str, dict[str, Any]] = {
    "jv_signup": {"product": {"product_id": "12", "product_name": "Course",
                              "official_product_name": "The Course"}},
    "affiliate_signup": {"product": {"product_id": "12", "product_name": "Course",
                                     "official_product_name": "The Course"}},
    "buy_product": {"transaction_details": PURCHASE},
    "refund_product": {"transaction_details": PURCHASE},
    "partial_refund_product": {"transaction_details": PURCHASE},
    "cancel_subscription": {"transaction_details": {
        **{k: v for k, v in PURCHASE.items() if not k.startswith("transaction_q")},
        "transaction_date": "2024-03-11 12:00:00", "transaction_type": "cancellation"}},
    "assign_tag": {"tag": {"tag_id": "5", "tag_name": "VIP"}},
    "unassign_tag": {"tag": {"tag_id": "5", "tag_name": "VIP"}},
    "list_subscription": {"list": {"list_id": "8", "list_name": "Newsletter"}},
    "list_unsubscription": {"list": {"list_id": "8", "list_name": "Newsletter"}},
    "sequence_subscription": {"sequence": {"sequence_id": "9", "sequence_name": "Welcome"}},
    "sequence_unsubscription": {"sequence": {"sequence_id": "9", "sequence_name": "Welcome"}},
    "sequence_completion": {"sequence": {"sequence_id": "9", "sequence_name": "Welcome"}},
    "membership_granted": {"membership": {"membership_id": "4", "membership_name": "Academy",
                                          "level_id": "2", "level_name": "Gold"}},
    "membership_revoked": {"membership": {"membership_id": "4", "membership_name": "Academy",
                                          "level_id": "2", "level_name": "Gold"}},
    "filled_form": {"form": {"form_id": "3", "form_name": "Contact us"}},
    "reaches_score": {"points": "100"},
    "calendar_subscribe": {"calendar": {
        "calendar_id": "6", "calendar_name": "Coaching", "class_id": "61",
        "class_name": "1:1 call", "vendor_timezone": "America/New_York",
        "calendar_subscription_id": "901",
        "hosts": [{"host_first_name": "Ann", "host_last_name": "Lee",
                   "host_email_address": "ann@example.com"}],
        "events": [{"event_start": "2024-03-12 10:00:00"}]}},
    "calendar_cancel": {"calendar": {"calendar_id": "6", "calendar_name": "Coaching",
                                     "class_id": "61", "class_name": "1:1 call"}},
    "calendar_complete": {"calendar": {"calendar_id": "6", "calendar_name": "Coaching",
                                       "class_id": "61", "class_name": "1:1 call"}},
    "survey_complete": {"survey": {
        "survey_id": "2", "survey_name": "Quiz", "survey_type": 1, "survey_score": "80%",
        "survey_completion_time": 95,
        "questions": [{"question_id": "1", "question_title": "Best colour?",
                       "question_correct": "1",
                       "answers": [{"option_id": "11", "option_value": "Blue"}]}]}},
    "video_play": {"video": {"video_id": "7", "video_name": "Intro"}},
    "video_complete": {"video": {"video_id": "7", "video_name": "Intro"}},
    "kartra_page_visit": {"kartra_page": {"kartra_page_id": "15", "kartra_page_name": "Sales"}},
    "click_page_split_test_link": {"page_split_test_link": {
        "page_split_test_link_id": "21", "page_split_test_link_name": "Variant B"}},
}


def outbound(action: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """An outbound event envelope."""
    return {"lead": LEAD, "action": action,
            "action_details": DETAILS.get(action, {}) if details is None else details}


IPN_COMMON = {
    "transaction_full_amount": "97.00", "transaction_base_amount": "90.00",
    "transaction_discount": "0.00", "transaction_shipping": "N/A", "transaction_tax": "7.00",
    "transaction_date": "2024-03-10 14:05:09", "transaction_affiliate": "N/A",
    "transaction_jv": "N/A", "transaction_quantity": "1",
    "transaction_last_4_card_digits": "4242", "original_id": "0",
    "product_name": "Course", "product_id": "12", "product_price_point": "1",
    "lead_id": "1", "lead_first_name": "John", "lead_last_name": "Smith",
    "lead_email": "john@example.com", "lead_username": "jsmith",
    "lead_phone_country_code": "+1", "lead_phone_number": "5551234",
    "lead_address": "1 Main St", "lead_city": "Boston", "lead_zip": "02108",
    "lead_state": "MA", "lead_country": "United States", "lead_country_code_2": "US",
    "lead_country_code_3": "USA", "lead_ip": "203.0.113.7", "secret_key": "s3cret",
    "vendor_tracking_id_1": "N/A", "vendor_tracking_id_2": "N/A",
    "vendor_tracking_link": "N/A", "gdpr_lead_status": "1", "gdpr_lead_status_date": "N/A",
}
ONE_TIME = {"trial": "0", "trial_amount": "N/A", "trial_period": "N/A", "payments_left": "N/A",
            "transaction_subscription_id": "N/A",
            "transaction_internal_subscription_id": "N/A",
            "transaction_subscription_pay_number": "N/A"}
RECURRING = {"trial": "1", "trial_amount": "1.00", "trial_period": "7",
             "payments_left": "Until cancelled", "transaction_subscription_id": "I-EV375R0H61SM",
             "transaction_internal_subscription_id": "14833",
             "transaction_subscription_pay_number": "2"}

# The six documented notifications: name → form fields.
IPNS: dict[str, dict[str, str]] = {
    "one_time_sale": {**IPN_COMMON, **ONE_TIME, "transaction_id": "48110",
                      "transaction_type": "sale", "transaction_parent_id": "0"},
    "one_time_reversal": {**IPN_COMMON, **ONE_TIME, "transaction_id": "48120",
                          "transaction_type": "chargeback", "transaction_parent_id": "48110"},
    "subscription_sale": {**IPN_COMMON, **RECURRING, "transaction_id": "48130",
                          "transaction_type": "sale", "transaction_parent_id": "0"},
    "rebill": {**IPN_COMMON, **RECURRING, "transaction_id": "48140",
               "transaction_type": "rebill", "transaction_parent_id": "0"},
    "subscription_reversal": {**IPN_COMMON, **RECURRING, "transaction_id": "48150",
                              "transaction_type": "failed", "transaction_parent_id": "48140"},
    "cancellation": {**IPN_COMMON, **RECURRING, "transaction_id": "48160",
                     "transaction_type": "cancellation", "transaction_parent_id": "0"},
}


def ipn_body(kind: str, **overrides: str) -> bytes:
    """The form body Kartra would post for IPN ``kind``."""
    return build_query({**IPNS[kind], **overrides}).encode()
