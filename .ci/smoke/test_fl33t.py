"""fleetsim[fl33t]: the official fl33t client against the fake."""


def test_fl33t_client(fl33t_client):
    train = fl33t_client.Train(name="main").create()
    assert fl33t_client.get_train(train.train_id).name == "main"
