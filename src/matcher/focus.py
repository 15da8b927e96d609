"""The bundled learning focus areas of school networks (PRODUCT.md): NYC's Framework for Great Schools elements and
the Learning Partners Program's year-one list. A program may supply its own list in the network policy."""

FRAMEWORK_FOCUS = ("rigorous_instruction", "supportive_environment", "collaborative_teachers",
                   "family_community_ties", "effective_leadership")
LPP_FOCUS = ("teacher_growth", "teacher_leadership", "inquiry_process", "common_core_gaps",
             "english_language_learners", "students_with_disabilities", "academic_interventions", "content_math",
             "content_literacy", "content_science", "content_arts", "student_voice", "social_emotional_learning",
             "school_culture", "postsecondary_readiness", "family_engagement", "external_partnerships",
             "strategic_resources", "difficult_problems")
BUNDLED_FOCUS = FRAMEWORK_FOCUS + LPP_FOCUS


def focus_label(code: str) -> str:
    return code.replace("_", " ")
