from django.urls import path

from staffing.web import capacity, dialogs, editor, history, imports, org, scenarios

urlpatterns = [
    path("", org.org_chart, name="home"),
    path("chart/export.<slug:fmt>", org.chart_export, name="chart-export"),
    path("chart/<int:pk>/export.<slug:fmt>", org.chart_export, name="chart-export"),
    path("chart/<int:pk>/children/", org.chart_children, name="chart-children"),
    path("chart/<int:pk>/<slug:action>/", dialogs.chart_edit, name="chart-edit"),
    path("chart/undo/<int:key>/", dialogs.chart_undo, name="chart-undo"),
    path("chart/search/", org.chart_search, name="chart-search"),
    path("chart/view/", org.chart_view_choose, name="chart-view"),
    path("chart/people/", org.people_search, name="chart-people"),
    path("chart/holders/<slug:code>/", org.role_holders, name="role-holders"),
    path("capacity/", capacity.capacity_page, name="capacity"),
    path("history/", history.org_history, name="history"),
    path("history/positions/<int:pk>/", history.position_history, name="position-history-page"),
    path("past/<str:day>/", history.past_chart, name="past-chart"),
    path("past/<str:day>/<int:pk>/children/", history.past_children, name="past-children"),
    path("scenarios/", scenarios.scenario_list, name="scenarios"),
    path("scenarios/from-plan/", scenarios.scenario_from_plan_page, name="scenario-plan-draft"),
    path("scenarios/<int:pk>/", editor.scenario_page, name="scenario"),
    path("scenarios/<int:pk>/diff/", scenarios.scenario_diff_page, name="scenario-compare"),
    path("scenarios/<int:pk>/apply/", scenarios.scenario_apply_page, name="scenario-make-live"),
    path("scenarios/<int:pk>/search/", editor.draft_search, name="scenario-search"),
    path("scenarios/<int:pk>/p/<int:row>/children/", editor.draft_children, name="draft-children"),
    path("scenarios/<int:pk>/p/<int:row>/<slug:action>/", editor.draft_edit, name="draft-edit"),
    path(
        "scenarios/<int:pk>/removed/<int:row>/restore/",
        editor.draft_restore_page,
        name="draft-restore",
    ),
    path("scenarios/<int:pk>/<slug:verb>/", scenarios.scenario_close_page, name="scenario-close"),
    path("import/", imports.import_page, name="import"),
    path("import/<int:pk>/", imports.import_job_page, name="import-job"),
    path("import/<int:pk>/progress/", imports.import_job_progress, name="import-progress"),
    path("import/<int:pk>/apply/", imports.import_job_apply, name="import-apply"),
]
