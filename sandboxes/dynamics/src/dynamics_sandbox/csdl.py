"""``GET /$metadata``: the CSDL (OData 4.0 XML) document describing the tables the
organisation hosts -- for each an EntityType with its Key, Properties and NavigationProperties
and an EntitySet with its NavigationPropertyBindings, in the ``Microsoft.Dynamics.CRM``
namespace (alias ``mscrm``) as Dataverse publishes it ("Web API service documents",
webapi/web-api-service-documents). Actions, functions, complex and enum types are not listed
(README)."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from .api_messages import ApiResponse
from .store.values import edm_type
from .webapi import WebApi

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"


def document(api: WebApi) -> ApiResponse:
    root = ET.Element("edmx:Edmx", {"Version": "4.0", "xmlns:edmx": EDMX})
    services = ET.SubElement(root, "edmx:DataServices")
    schema = ET.SubElement(
        services,
        "Schema",
        {"Namespace": "Microsoft.Dynamics.CRM", "Alias": "mscrm", "xmlns": EDM},
    )
    ET.SubElement(schema, "EntityType", {"Name": "crmbaseentity", "Abstract": "true"})
    container = ET.Element("EntityContainer", {"Name": "System"})
    relationships = list(api.schema.relationships.values())
    for entity in sorted(api.schema.entities.values(), key=lambda e: e.logical_name):
        entity_type = ET.SubElement(
            schema,
            "EntityType",
            {"Name": entity.logical_name, "BaseType": "mscrm.crmbaseentity"},
        )
        key = ET.SubElement(entity_type, "Key")
        ET.SubElement(key, "PropertyRef", {"Name": entity.primary_id})
        for attribute in entity.attributes.values():
            ET.SubElement(
                entity_type,
                "Property",
                {"Name": attribute.odata_name, "Type": edm_type(attribute)},
            )
        entity_set = ET.SubElement(
            container,
            "EntitySet",
            {
                "Name": entity.entity_set_name,
                "EntityType": f"Microsoft.Dynamics.CRM.{entity.logical_name}",
            },
        )
        for r in relationships:
            if r.referencing_entity == entity.logical_name:
                target = api.schema.entity(r.referenced_entity)
                nav = ET.SubElement(
                    entity_type,
                    "NavigationProperty",
                    {
                        "Name": r.referencing_nav,
                        "Type": f"mscrm.{target.logical_name}",
                        "Partner": r.referenced_nav,
                    },
                )
                ET.SubElement(
                    nav,
                    "ReferentialConstraint",
                    {
                        "Property": f"_{r.referencing_attribute}_value",
                        "ReferencedProperty": target.primary_id,
                    },
                )
                ET.SubElement(
                    entity_set,
                    "NavigationPropertyBinding",
                    {"Path": r.referencing_nav, "Target": target.entity_set_name},
                )
            if r.referenced_entity == entity.logical_name:
                child = api.schema.entity(r.referencing_entity)
                ET.SubElement(
                    entity_type,
                    "NavigationProperty",
                    {
                        "Name": r.referenced_nav,
                        "Type": f"Collection(mscrm.{child.logical_name})",
                        "Partner": r.referencing_nav,
                    },
                )
                ET.SubElement(
                    entity_set,
                    "NavigationPropertyBinding",
                    {"Path": r.referenced_nav, "Target": child.entity_set_name},
                )
    schema.append(container)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return ApiResponse(200, None, raw=xml, content_type="application/xml")
