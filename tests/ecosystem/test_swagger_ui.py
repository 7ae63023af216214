"""GIVEN the local gateway serving under the stage path /prod, as API Gateway serves a named stage, WHEN its
/docs page is opened in headless Chromium THEN Swagger UI reads /prod/openapi.json, shows every operation, and
"Try it out" on POST /predict sends the example body to /prod/predict and shows a prediction.

Swagger UI's own files come from DOCS_ASSETS_URL, a CDN by default: the browser gets the CDN's files from a
pinned local copy (testkit.browser), and with DOCS_ASSETS_URL naming a host of the user's own, the page needs
nothing from outside at all. The screenshot of the answered call is docs/swagger-ui.png when
UPDATE_SCREENSHOTS=1, else it goes to the test's tmp_path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.testkit.browser import browser_page, chromium, keep_on_machine, static_host, swagger_ui_dist
from tests.testkit.paths import REPO
from tests.testkit.server import LocalServer, local_server

__all__ = ["chromium", "swagger_ui_dist"]  # session fixtures: pytest finds them by name in this module

SCREENSHOT = REPO / "docs" / "swagger-ui.png"
OPERATIONS = ("/predict", "/v2/models/{model_name}/infer", "/health")


@pytest.fixture(scope="module")
def staged(default_model: Path) -> Iterator[LocalServer]:
    with local_server("--stage", "prod") as server:
        assert server.url.endswith("/prod")
        yield server


@pytest.fixture
def page(chromium: Path, tmp_path: Path) -> Iterator[Page]:
    with browser_page(chromium, tmp_path / "profile") as opened:
        yield opened


def origin(server: LocalServer) -> str:
    return server.url.removesuffix("/prod")


def open_docs(page: Page, server: LocalServer) -> int:
    """Open <url>/docs and wait for Swagger UI to fetch the OpenAPI document; returns that fetch's status."""
    with page.expect_response(lambda response: response.url == f"{server.url}/openapi.json") as document:
        page.goto(f"{server.url}/docs")
    return document.value.status


def operation(page: Page, method: str, path: str) -> Locator:
    """Swagger UI's block for one operation (its summary carries the path, unbroken, in data-path)."""
    return page.locator(f".opblock.opblock-{method}", has=page.locator(f'.opblock-summary-path[data-path="{path}"]'))


def screenshot(page: Page, top: Locator, bottom: Locator, path: Path) -> None:
    """The page from TOP's upper edge to BOTTOM's lower one: the call and its answer, not the long list of
    documented responses below them (docs/api.md shows this picture)."""
    upper, lower = page_top(top), page_top(bottom) + bottom.evaluate("element => element.offsetHeight")
    width = page.viewport_size["width"] if page.viewport_size else 1280
    page.screenshot(
        path=str(path), full_page=True, clip={"x": 0, "y": upper, "width": width, "height": lower - upper + 8}
    )


def page_top(element: Locator) -> float:
    """ELEMENT's upper edge in page coordinates (a full-page screenshot's clip is in those, not the viewport's)."""
    top: float = element.evaluate("element => element.getBoundingClientRect().top + window.scrollY")
    return top


def test_the_staged_docs_page_renders_every_operation_of_the_staged_document(
    page: Page, staged: LocalServer, swagger_ui_dist: Path
) -> None:
    keep_on_machine(page, origin(staged), swagger_ui=swagger_ui_dist)
    assert open_docs(page, staged) == 200
    for path in OPERATIONS:
        expect(operation(page, "post" if path != "/health" else "get", path)).to_be_visible()
    expect(page.locator(".servers select")).to_have_value("/prod")


def test_try_it_out_on_predict_sends_the_example_to_the_staged_path_and_shows_a_prediction(
    page: Page, staged: LocalServer, swagger_ui_dist: Path, tmp_path: Path
) -> None:
    keep_on_machine(page, origin(staged), swagger_ui=swagger_ui_dist)
    open_docs(page, staged)
    predict = operation(page, "post", "/predict")
    predict.locator(".opblock-summary").click()
    predict.get_by_role("button", name="Try it out").click()
    document = staged.request("GET", "/openapi.json").json()
    served_example = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["example"]
    assert json.loads(predict.locator("textarea.body-param__text").input_value()) == served_example

    with page.expect_response(f"{staged.url}/predict") as sent:
        predict.get_by_role("button", name="Execute").click()
    assert sent.value.status == 200
    answer = predict.locator(".live-responses-table .response")
    expect(answer.locator(".response-col_status")).to_have_text("200")
    shown = json.loads(answer.locator(".response-col_description .highlight-code pre").inner_text())
    assert len(shown["predictions"]) == 1
    assert "label" in shown["predictions"][0]

    target = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path / SCREENSHOT.name
    screenshot(page, predict, answer, target)
    assert target.stat().st_size > 0


def test_with_docs_assets_url_on_a_host_of_ones_own_the_page_needs_nothing_from_outside(
    page: Page, swagger_ui_dist: Path
) -> None:
    with (
        static_host(swagger_ui_dist) as assets,
        local_server("--stage", "prod", env={"DOCS_ASSETS_URL": assets}) as server,
    ):
        outside = keep_on_machine(page, origin(server), assets)  # no CDN copy: anything else is refused
        assert open_docs(page, server) == 200
        expect(operation(page, "post", "/predict")).to_be_visible()
        page.wait_for_load_state("networkidle")
    assert outside.refused == []
    assert outside.served == []
