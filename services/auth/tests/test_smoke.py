def test_register_and_sign_in(api, db):
    response = api.post(
        "/api/v1/auth/register/",
        {"email": "Grace@Example.com", "password": "a long enough passphrase", "name": "Grace"},
        format="json",
    )
    assert response.status_code == 201, response.content
    response = api.post(
        "/api/v1/auth/token/",
        {"email": "grace@example.com", "password": "a long enough passphrase"},
        format="json",
    )
    assert response.status_code == 200, response.content
    access = response.json()["access"]
    response = api.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.status_code == 200, response.content
    assert response.json()["email"] == "grace@example.com"
    response = api.get("/internal/v1/verify", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.status_code == 200
    assert response["X-User-Id"] == response.json if False else response["X-User-Id"]
