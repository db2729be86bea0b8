"""Builds a FHIR $match request with fhir.resources (a FHIR library from PyPI
that no one on this project wrote): a UK Core Patient from the demographics
given as JSON on stdin, wrapped in a Parameters resource. Prints the JSON."""

import json
import sys

from fhir.resources.R4B.address import Address
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.parameters import Parameters, ParametersParameter
from fhir.resources.R4B.patient import Patient

d = json.load(sys.stdin)
patient = Patient(
    meta=Meta(profile=["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]),
    identifier=[Identifier(system="https://fhir.nhs.uk/Id/nhs-number", value=d["nhs_number"])],
    name=[HumanName(use="official", family=d["family"], given=d["given"])],
    gender=d["gender"],
    birthDate=d["birth_date"],
    address=[Address(use="home", line=d["lines"], postalCode=d["postcode"])],
)
request = Parameters(
    parameter=[
        ParametersParameter(name="resource", resource=patient),
        ParametersParameter(name="count", valueInteger=3),
    ]
)
print(request.model_dump_json(exclude_none=True))
