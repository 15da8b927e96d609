"""Teacher teams within a school (lesson study, inquiry teams, template teams), each around one shared focus
indicator with a member strong in it: `form_teams(table, policy)`."""

from .model import TeamPolicy, load_team_policy, team_policy_from_dict
from .result import Team, TeamsResult, Unassigned
from .solve import form_teams

__all__ = ["Team", "TeamPolicy", "TeamsResult", "Unassigned", "form_teams", "load_team_policy",
           "team_policy_from_dict"]
