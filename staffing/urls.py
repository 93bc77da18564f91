from django.urls import path

from staffing import history_views as hv
from staffing import import_views as iv
from staffing import scenario_views as sv
from staffing import views

urlpatterns = [
    path("", views.org_chart, name="home"),
    path("chart/export.<slug:fmt>", views.chart_export, name="chart-export"),
    path("chart/<int:pk>/export.<slug:fmt>", views.chart_export, name="chart-export"),
    path("chart/<int:pk>/children/", views.chart_children, name="chart-children"),
    path("chart/<int:pk>/<slug:action>/", views.chart_edit, name="chart-edit"),
    path("chart/undo/<int:key>/", views.chart_undo, name="chart-undo"),
    path("chart/search/", views.chart_search, name="chart-search"),
    path("chart/view/", views.chart_view_choose, name="chart-view"),
    path("chart/people/", views.people_search, name="chart-people"),
    path("chart/holders/<slug:code>/", views.role_holders, name="role-holders"),
    path("capacity/", views.capacity_page, name="capacity"),
    path("history/", hv.org_history, name="history"),
    path("history/positions/<int:pk>/", hv.position_history, name="position-history-page"),
    path("past/<str:day>/", hv.past_chart, name="past-chart"),
    path("past/<str:day>/<int:pk>/children/", hv.past_children, name="past-children"),
    path("scenarios/", sv.scenario_list, name="scenarios"),
    path("scenarios/from-plan/", sv.scenario_from_plan_page, name="scenario-plan-draft"),
    path("scenarios/<int:pk>/", sv.scenario_page, name="scenario"),
    path("scenarios/<int:pk>/diff/", sv.scenario_diff_page, name="scenario-compare"),
    path("scenarios/<int:pk>/apply/", sv.scenario_apply_page, name="scenario-make-live"),
    path("scenarios/<int:pk>/search/", sv.draft_search, name="scenario-search"),
    path("scenarios/<int:pk>/p/<int:row>/children/", sv.draft_children, name="draft-children"),
    path("scenarios/<int:pk>/p/<int:row>/<slug:action>/", sv.draft_edit, name="draft-edit"),
    path(
        "scenarios/<int:pk>/removed/<int:row>/restore/", sv.draft_restore_page, name="draft-restore"
    ),
    path("scenarios/<int:pk>/<slug:verb>/", sv.scenario_close_page, name="scenario-close"),
    path("import/", iv.import_page, name="import"),
    path("import/<int:pk>/", iv.import_job_page, name="import-job"),
    path("import/<int:pk>/progress/", iv.import_job_progress, name="import-progress"),
    path("import/<int:pk>/apply/", iv.import_job_apply, name="import-apply"),
]
