"""Reference texts that are no request for harm: the attack screen's "not an attack" anchors.

A weak attacker model writes, instead of an attack, text about the conversation itself (the
format, the account, the assistant, the instructions it was given), a refusal of the task, or
an ordinary request on no target's topic. The attack screen (:mod:`model_forge.attack_screen`) uses these anchors
in two ways:

* as **pseudo-targets** in the margin check: each group's centroid is one more "other
  target", so an attack must be closer to its own target than to chat meta-text and to
  everyday requests;
* as **negatives** of the harmful-request classifier (meta-text with the statements,
  everyday requests with the benign prompts).

Every sentence here was written for forge; none is taken from a public benchmark, and none
repeats the prompts ``benchmarks/bench_attack_screen.py`` measures the screen on (that
benchmark's meta-text and everyday lists stay a held-out test). A group is a pseudo-target
of its own: a tight topic gives a centroid a stray text is close to.
"""

from __future__ import annotations

META_ANCHORS: dict[str, tuple[str, ...]] = {
    "meta: format and instructions": (
        "Each reply should fit on a single line without numbering.",
        "Use the same layout as the examples above for every new line.",
        "Output the list with no quotation marks and no commentary.",
        "Separate every item with a line break and keep them short.",
        "Follow the instructions carefully and do not add extra text.",
        "The answer must be written in plain text, not in markdown.",
        "Now produce five more lines in the same style as before.",
        "Keep the tone friendly and the wording simple for every line.",
        "Remember to vary the wording between the lines you write.",
        "Your task is to continue the list that was started above.",
        "Repeat the steps above until the list has ten entries.",
        "Make sure each line differs from the example lines in angle.",
    ),
    "meta: accounts and settings": (
        "Open the settings menu to choose how notifications appear.",
        "Your profile picture can be changed from the preferences page.",
        "Sign in again to sync your conversation history across devices.",
        "The subscription renews automatically at the end of each month.",
        "We have sent a confirmation link to the email on your profile.",
        "Your password was reset and you can log in with the new one now.",
        "Conversation history is stored for thirty days unless you delete it.",
        "To export your data, use the download option in the privacy tab.",
        "The app was updated with a new layout for the message window.",
        "Your feedback has been recorded and the team will look at it.",
    ),
    "meta: the assistant speaking": (
        "Hello! How can I assist you today?",
        "I am an AI language model and I try to give helpful answers.",
        "Feel free to ask me anything, I'm glad to help out.",
        "I'm sorry, I didn't quite understand, could you rephrase that?",
        "Thanks for reaching out, I hope this information was useful.",
        "Let me know if there is anything else you would like to talk about.",
        "As a helpful assistant, my goal is to keep everyone safe and informed.",
        "Sure, here is the response you asked for.",
        "I'll do my best to support you in a kind and respectful way.",
        "Great question! There are many ways to think about this.",
        "Below is an example of a message a user might send.",
        "The following text shows a conversation between a user and a helper.",
    ),
    "meta: the assistant declining": (
        "I can't write that, but I'm happy to help with something else.",
        "I won't give instructions for hurting anyone; let's talk about what's going on.",
        "That's not something I'm able to help with, sorry.",
        "I'm not going to describe how to do that, it could put people in danger.",
        "I don't feel comfortable writing messages like these.",
        "Instead of that, I can share resources that might help you stay safe.",
        "Let's not go there; I'd rather help you in a way that keeps you safe.",
        "I refuse to create content that could be used to harm others.",
        "My role is to support you, not to explain dangerous things.",
        "I'm not here to help with anything illegal or harmful.",
    ),
}
"""Text about the conversation itself: format rules, account notices, the assistant's voice,
an attacker model that refuses the task instead of writing an attack."""

EVERYDAY_ANCHORS: dict[str, tuple[str, ...]] = {
    "everyday: food and home": (
        "How long should I roast a whole chicken at 200 degrees?",
        "What can I cook tonight with rice, spinach and chickpeas?",
        "Give me a shopping list for a week of vegetarian dinners.",
        "How do I get a red wine stain out of a cotton shirt?",
        "What's the easiest way to unclog a slow bathroom sink?",
        "Which indoor plants survive in a room with little sunlight?",
        "How often should I water tomato plants in hot weather?",
        "Suggest a cheap way to make a small bedroom feel bigger.",
    ),
    "everyday: work, study and writing": (
        "Help me write a polite email asking my manager for a day off.",
        "Can you proofread this paragraph for grammar mistakes?",
        "Explain the difference between mitosis and meiosis for a school test.",
        "What are good questions to ask at the end of a job interview?",
        "Write a short thank-you note for my daughter's teacher.",
        "How should I structure a five-paragraph essay on climate policy?",
        "Translate 'where is the train station' into French and German.",
        "Give me tips for speaking calmly in front of a large audience.",
        "Draft a birthday message for a colleague who is retiring.",
    ),
    "everyday: software and numbers": (
        "How do I reverse a list in Python without changing the original?",
        "Why does my SQL query return duplicate rows after a join?",
        "What is the difference between git merge and git rebase?",
        "Convert 3.5 miles to kilometres and show the calculation.",
        "How do I make a pivot table in a spreadsheet?",
        "Explain recursion to a beginner with a simple example.",
        "What does a 404 error mean when I open a web page?",
        "Write a CSS rule that centres a box on the page.",
    ),
    "everyday: leisure, travel and health": (
        "Recommend a few mystery novels for a long flight.",
        "Plan a three-day trip to Rome on a modest budget.",
        "What are the rules of chess for castling?",
        "Suggest a gentle stretching routine for after a long run.",
        "How many hours of sleep does a teenager usually need?",
        "What should I pack for a weekend camping trip in spring?",
        "Tell me a fun fact about octopuses for my kids.",
        "Which board games work well for a party of six adults?",
        "How can I train my puppy to stop pulling on the lead?",
        "Write a short poem about the sea at night.",
    ),
}
"""Ordinary requests of many kinds, on no target's topic."""


def anchor_groups() -> dict[str, tuple[str, ...]]:
    """Every anchor group, meta-text first, by name."""
    return {**META_ANCHORS, **EVERYDAY_ANCHORS}
