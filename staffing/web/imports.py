"""The import pages: upload a CSV file, read the dry run's report (every problem by row and
column, or what would change), then import exactly the file that was checked, with a
progress bar while the Celery job runs. Administrators who edit the whole organization
only; the rules live in :mod:`staffing.interchange`."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from staffing.interchange import checks, columns, csvfile, jobs
from staffing.models import ImportJob


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 CSV with a header row: positions (the chart's CSV export is one), "
        "people or locations.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


def _context(job: ImportJob | None = None, **extra) -> dict:
    context = {
        "limit_mb": settings.IMPORT_MAX_BYTES // (1024 * 1024),
        "position_columns": columns.POSITION_COLUMNS,
        "people_columns": columns.PEOPLE_COLUMNS,
        "location_columns": columns.LOCATION_COLUMNS,
        "job": job,
        **extra,
    }
    if job is not None:
        total = max(job.problem_count, len(job.problems))
        context["problem_total"], context["problems_more"] = total, total - len(job.problems)
        context["summary"] = [
            (columns.SUMMARY_LABELS.get(key, key), n) for key, n in job.summary.items()
        ]
    return context


@login_required
def import_page(request):
    """The upload form and the latest imports; a posted file is checked (a dry run)."""
    checks.require_importer(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    problems: list = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                problems = csvfile.check_upload(
                    name=upload.name, size=upload.size, content_type=upload.content_type or ""
                )
                if not problems:
                    job = jobs.import_job_check(
                        actor=request.user,
                        filename=upload.name,
                        data=upload.read(),
                        content_type=upload.content_type or "",
                    )
                    return redirect("import-job", pk=job.pk)
            except csvfile.ImportRefused as refused:
                problems = refused.problems
        status = 400
    recent = ImportJob.objects.select_related("created_by").defer("content")[:10]
    context = _context(form=form, problems=problems, recent=recent)
    return render(request, "staffing/import.html", context, status=status)


@login_required
@require_GET
def import_job_page(request, pk: int):
    """The report of a checked file, and its import's progress or outcome."""
    checks.require_importer(request.user)
    job = get_object_or_404(ImportJob.objects.defer("content"), pk=pk)
    return render(request, "staffing/import_job.html", _context(job))


@login_required
@require_GET
def import_job_progress(request, pk: int):
    """The progress fragment the job page polls (htmx) until the import ends."""
    checks.require_importer(request.user)
    job = get_object_or_404(ImportJob.objects.defer("content"), pk=pk)
    response = render(request, "staffing/_import_progress.html", _context(job))
    if not job.in_progress and request.htmx:
        response["HX-Refresh"] = "true"  # show the outcome with the whole report
    return response


@login_required
@require_POST
def import_job_apply(request, pk: int):
    """Import the checked file: queued as a Celery job, in-process without a broker."""
    checks.require_importer(request.user)
    job = get_object_or_404(ImportJob.objects.defer("content"), pk=pk)
    try:
        jobs.import_job_start(actor=request.user, job=job)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("import-job", pk=job.pk)
