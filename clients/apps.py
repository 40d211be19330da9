from django.apps import AppConfig

# What this app writes to the audit log (staff.audit.record), with the labels the audit page
# shows. staff.audit.action_labels() reads them from the AppConfig below.
AUDIT_ACTIONS = {
    "client.create": "Added a client",
    "client.update": "Edited a client",
    "client.cancel": "Cancelled a client (kept: has financial records)",
    "client.delete": "Deleted a client",
    "location.create": "Added a service location",
    "location.update": "Edited a service location",
    "equipment.create": "Recorded new equipment",
    "equipment.update": "Edited equipment details",
    "equipment.move": "Moved equipment or changed its status",
    "interaction.update": "Edited a logged interaction",
    "interaction.delete": "Deleted a logged interaction",
    "client.portal_invite": "Invited a client to create a portal login",
    "client.portal_link": "Linked an existing portal login to a client",
    "client.portal_invite_accept": "Created a portal login from an invitation",
    "opportunity.create": "Added a sales opportunity",
    "opportunity.update": "Edited a sales opportunity",
    "opportunity.move": "Moved a sales opportunity to another stage",
    "client.activate": "Made a prospect an active client (won an opportunity)",
}


class ClientsConfig(AppConfig):
    name = "clients"
    audit_actions = AUDIT_ACTIONS
