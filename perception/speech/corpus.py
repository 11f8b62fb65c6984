"""Sentences for our speech data: robot commands from templates, and general sentences.

All text here was written for this project. Commands are built from templates and slot values;
the general sentences are everyday statements a person might say near a robot. Splits are made
by :mod:`perception.speech.dataset`, never here.
"""

from __future__ import annotations

import itertools

_PLACES = [
    "kitchen",
    "charging station",
    "loading dock",
    "front door",
    "meeting room",
    "storage room",
    "elevator",
    "reception desk",
    "workshop",
    "parking lot",
    "second floor",
    "garden",
    "laundry room",
    "main hall",
    "office",
    "garage",
]
_OBJECTS = [
    "red box",
    "blue mug",
    "first aid kit",
    "toolbox",
    "water bottle",
    "clipboard",
    "yellow bag",
    "small parcel",
    "laptop",
    "coffee cup",
    "green folder",
    "umbrella",
    "set of keys",
    "screwdriver",
    "paper towels",
    "white envelope",
]
_PEOPLE = ["Anna", "the doctor", "the manager", "David", "the visitor", "Maria", "the guard"]
_TEMPLATES = [
    "Go to the {place}.",
    "Please go to the {place} and wait there.",
    "Bring the {obj} to the {place}.",
    "Pick up the {obj} from the {place}.",
    "Take the {obj} to {person}.",
    "Stop and turn {side}.",
    "Turn {side} and go to the {place}.",
    "Follow {person} to the {place}.",
    "Put the {obj} on the table in the {place}.",
    "Find the {obj} and bring it to me.",
    "Robot, stop. Return to the {place}.",
    "Move {dist} meters forward, then turn {side}.",
    "Wait here until {person} arrives.",
    "Open the door to the {place}.",
    "Tell {person} that the {obj} is ready.",
]
_SIDES = ["left", "right"]
_DISTANCES = ["two", "three", "five", "ten"]

GENERAL = [
    "The weather is much colder than it was yesterday.",
    "I think we should leave before the traffic gets worse.",
    "She bought fresh bread at the bakery this morning.",
    "The meeting has been moved to Thursday afternoon.",
    "Could you turn the music down a little?",
    "My brother is learning to play the violin.",
    "The train to the airport leaves every twenty minutes.",
    "We ran out of milk again, so I will buy some later.",
    "The children are playing football in the park.",
    "Please remember to lock the back door tonight.",
    "The museum is closed on Mondays.",
    "He forgot his umbrella at the restaurant.",
    "It took three hours to finish the report.",
    "The new library has a large reading room.",
    "Our neighbors are painting their house blue.",
    "I usually drink tea in the afternoon.",
    "The printer on the third floor is out of paper.",
    "They are planning a trip to the mountains.",
    "The soup needs a little more salt.",
    "The battery of my phone is almost empty.",
    "A cat was sleeping on the warm windowsill.",
    "The bus was late because of the snow.",
    "We need two more chairs for the guests.",
    "The doctor said I should rest for a week.",
    "This road leads to the old harbor.",
    "Please send me the photos from the party.",
    "The shop on the corner sells fresh flowers.",
    "I cannot find my glasses anywhere.",
    "The concert starts at eight in the evening.",
    "The river is very high after the storm.",
    "She speaks three languages fluently.",
    "The computer needs to be restarted.",
    "Dinner will be ready in ten minutes.",
    "The lights in the hallway are flickering.",
    "He walks his dog every morning before work.",
    "The package should arrive on Friday.",
    "Let us meet in front of the cinema.",
    "The coffee machine is broken again.",
    "Tomorrow will be sunny with a light breeze.",
    "I left the documents on your desk.",
    "The floor in the kitchen is still wet.",
    "Someone is knocking at the front door.",
    "The garden looks beautiful in spring.",
    "We should check the tires before the trip.",
    "The elevator is out of order today.",
    "My sister works at the hospital downtown.",
    "The baby finally fell asleep.",
    "Please close the window, it is getting cold.",
    "The store opens at nine on weekdays.",
    "The bridge was built more than a century ago.",
    "I would like a glass of orange juice.",
    "The students are waiting outside the classroom.",
    "There is a small crack in the ceiling.",
    "He fixed the bicycle in less than an hour.",
    "The kettle is boiling on the stove.",
    "We watched an old movie last night.",
    "The plants need water twice a week.",
    "Her flight was delayed by two hours.",
    "The keys are hanging next to the door.",
    "The restaurant was full, so we went home.",
    "The parking garage closes at midnight on Sundays.",
    "My grandmother grows tomatoes on her balcony.",
    "The heating in this building never works properly.",
    "We painted the fence white last summer.",
    "The pharmacy is next to the post office.",
    "He always takes the stairs instead of the lift.",
    "The lecture was longer than anyone expected.",
    "Please leave your shoes by the entrance.",
    "The old clock in the hall stopped at noon.",
    "Our team won the match by a single point.",
    "The library books are due back on Tuesday.",
    "A strong wind knocked over the garden chairs.",
    "She keeps a notebook for every trip she takes.",
    "The ferry crossing takes about forty minutes.",
    "I need a new charger for my laptop.",
    "The bakery sells out of croissants by ten.",
    "There is a long queue at the ticket office.",
    "The office plants have not been watered for days.",
    "He lost his wallet somewhere on the tram.",
    "The recipe calls for two cups of flour.",
    "The gallery has a new exhibition of old maps.",
    "My cousin moved to a small town by the sea.",
    "The dentist can see you on Wednesday morning.",
    "We are out of printer ink and staples.",
    "The neighbours have a very noisy parrot.",
    "The fog was so thick that the flights were cancelled.",
    "I will call you back after the meeting.",
    "The soup kitchen needs more volunteers this winter.",
    "The town hall clock is five minutes fast.",
    "Her bicycle has a basket and a loud bell.",
    "The snow on the roof started to melt today.",
    "Could you pass me the salt and the pepper?",
    "The hotel room had a view of the harbour.",
    "The repair shop will fix the radio by Friday.",
    "Most of the apples fell from the tree overnight.",
    "The school trip was postponed until next month.",
    "He wrote the address on the back of an envelope.",
    "The kettle in the staff room is broken.",
    "The path along the river is closed for repairs.",
    "The band played until long after midnight.",
]


def robot_commands() -> list[str]:
    """Every command the templates produce, in a fixed order (duplicates removed)."""
    out: list[str] = []
    for template in _TEMPLATES:
        slots = {
            "place": _PLACES,
            "obj": _OBJECTS,
            "person": _PEOPLE,
            "side": _SIDES,
            "dist": _DISTANCES,
        }
        names = [n for n in slots if "{" + n + "}" in template]
        for values in itertools.product(*(slots[n] for n in names)):
            out.append(template.format(**dict(zip(names, values, strict=True))))
    return list(dict.fromkeys(out))


def babble_sentences() -> list[str]:
    """Background talk for babble noise: the general sentences read backwards word by word, so
    that no babble sentence is a transcript of any split."""
    return [" ".join(reversed(s.rstrip(".?").split())) for s in GENERAL]
